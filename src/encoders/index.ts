// Each module registers its format by name on import.
import './json.js';
import './console.js';
