// The project targets Node.js >= 22; the `node` dev dependency provides it to npm scripts on older machines.
export function assertNodeVersion(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    throw new Error(
      `Node.js ${process.version} runs the tests, but mirrorguard needs >= 22: run them through npm (npm test), which puts the project's own Node first on PATH`,
    );
  }
}
