import { jsRuntimePlugins } from '../builtins.js';
import { describeConformance } from '../conformance/describe-conformance.js';

describeConformance('js', jsRuntimePlugins);
