/** Import rules of the architecture (see README, "Layout"): the flow runs one way. */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'core-is-platform-neutral',
      comment: 'Everything outside src/cli and src/node must run in a browser.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli|node)/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'nothing-imports-cli',
      severity: 'error',
      from: { pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'engine-does-not-render-or-parse-binaries',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: '^src/(render|format|arch|analysis|node)/' },
    },
    {
      name: 'rules-do-not-touch-binaries',
      severity: 'error',
      from: { path: '^src/rules/' },
      to: { path: '^src/(engine|render|format|arch|analysis|node)/' },
    },
    {
      name: 'features-do-not-know-rules',
      severity: 'error',
      from: { path: '^src/features/' },
      to: { path: '^src/(rules|engine|render|node)/' },
    },
    {
      name: 'iced-only-in-arch',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/arch/x86/' },
      to: { path: 'iced-x86' },
    },
    {
      name: 'format-does-not-disassemble',
      severity: 'error',
      from: { path: '^src/format/' },
      to: { path: '^src/(arch|analysis|features|rules|engine|render|node)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
