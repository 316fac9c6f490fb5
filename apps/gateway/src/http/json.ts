export { JsonFloat, parseJson, stringifyJson } from '#domain';
