// Nest injection tokens.
export const API_DEPENDENCIES = Symbol('API_DEPENDENCIES');
export const HEALTH_DEPENDENCIES = Symbol('HEALTH_DEPENDENCIES');
