// The SQL dialects the one query layer serves.
export type Dialect = "sqlite" | "postgres";
