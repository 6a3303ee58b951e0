// orch's version, in a module of its own so that `orch --version` prints it without loading anything else.
export const VERSION = "0.1.0";
