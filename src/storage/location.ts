// Where results go when no --db is given: a constant of its own, so every command can offer the
// flag's default without loading the store.

export const DEFAULT_DB = "vnetbench.db";
