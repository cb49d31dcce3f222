/** kflog's version: what `kflog --version` prints and what the HAR files it writes name as their creator. */
export const KFLOG_VERSION = '0.1.0';
