/** The page's stylesheet, inlined in a `<style>` element. */
export const PAGE_STYLE = `
:root { color-scheme: light; --accent: #1f5fa8; --flag: #c0392b; --muted: #5f6b7a; --line: #d9dee5; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI",
  Roboto, sans-serif; color: #1c2733; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.model { color: var(--muted); margin: 0 0 16px; overflow-wrap: anywhere; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; }
.recipe { display: flex; flex-wrap: wrap; gap: 4px 12px; }
.recipe span { white-space: nowrap; }
.recipe b { font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; position: sticky; top: 0; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.name { overflow-wrap: anywhere; max-width: 360px; }
tr.flagged td { background: #fdecea; }
tr.flagged td.name::before, .layer.flagged summary .name::before { content: "⚑ "; color: var(--flag); }
.scroll { max-height: 560px; overflow: auto; border: 1px solid var(--line); }
.note { color: var(--muted); margin: 4px 0 12px; }
.chart { position: relative; height: 240px; min-width: 0; }
.chart.wide { height: 320px; }
.layer { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 4px 12px; }
.layer.flagged { border-color: var(--flag); }
.layer summary { cursor: pointer; padding: 4px 0; }
.layer summary .name { font-weight: 600; overflow-wrap: anywhere; }
.layer summary .meta { color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px; margin: 8px 0; }
.charts figure { margin: 0; min-width: 0; }
.charts figcaption { color: var(--muted); font-size: 13px; margin-bottom: 4px; overflow-wrap: anywhere; }
.suggestion { color: var(--flag); }
a { color: var(--accent); }
th button { font: inherit; color: inherit; text-align: inherit; cursor: pointer; padding: 0; border: 0; background: none; }
th[aria-sort="ascending"] button::after { content: " ▲"; }
th[aria-sort="descending"] button::after { content: " ▼"; }
.table-controls { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin: 0 0 8px; }
tr[data-status="float"] td { color: var(--muted); }
.regions { margin: 4px 0 12px; overflow-wrap: anywhere; }
`;
