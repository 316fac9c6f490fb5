import { ApiError } from '#http';

// The admin API's own failures; #http's ProblemFilter turns each into problem+json.
export const unauthorized = (message = 'Log in first.') => new ApiError(401, 'unauthorized', message);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} does not exist.`);
export const conflict = (code: string, message: string) => new ApiError(409, code, message);
