/** Sent on every new connection, and again after a reset or a change of user (both turn it off). */
export const SET_READ_ONLY = 'SET SESSION TRANSACTION READ ONLY';

