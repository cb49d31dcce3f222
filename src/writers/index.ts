// Each module registers its output by name on import.
import './stdio.js';
import './discard.js';
import './file.js';
import './net.js';
import './syslog.js';
