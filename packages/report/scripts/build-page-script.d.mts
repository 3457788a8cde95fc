/** Where the compiled page script is written. */
export declare const OUTPUT: string;
/** The page script compiled from src/page/main.ts. */
export declare function compilePageScript(): Promise<string>;
/** The text src/generated/page-script.ts should hold. */
export declare function pageScriptModule(): Promise<string>;
