/** swagger-ui-dist ships no types; only the folder of its files is used (its index.js loads the whole bundle). */
declare module 'swagger-ui-dist/absolute-path.js' {
  const absolutePath: () => string;
  export default absolutePath;
}
