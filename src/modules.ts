// Every encoder and writer module kflog ships, in one list: each registers its format or output by name on
// import, so adding one is a line here and never touches the pipeline or the config loader. Imported by what
// needs the registries full: the CLI (every process of kflog starts there), the log thread (a fresh module graph)
// and the config loader (it checks each log's options against its module).
import './encoders/json.js';
import './encoders/console.js';
import './encoders/kftray.js';
import './encoders/clf.js';
import './encoders/haproxy.js';
import './encoders/logfmt.js';
import './encoders/filter.js';
import './encoders/store.js';
import './writers/stdio.js';
import './writers/discard.js';
import './writers/file.js';
import './writers/net.js';
import './writers/syslog.js';
import './writers/store.js';
