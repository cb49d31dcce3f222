// Each module registers its format by name on import; adding a format never touches the pipeline.
import './json.js';
import './console.js';
import './kftray.js';
import './clf.js';
import './haproxy.js';
import './logfmt.js';
import './filter.js';
