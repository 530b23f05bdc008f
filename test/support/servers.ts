// Where the integration tests find their servers: loopback defaults, overridable from the environment.
export const MYSQL_URL: string = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const REDIS_URL: string = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
