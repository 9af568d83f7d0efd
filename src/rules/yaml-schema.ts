import { Scalar, type ScalarTag, type Tags } from 'yaml';

/**
 * capa reads rules with PyYAML: YAML 1.1, except that only yes/no, true/false and on/off
 * (in three casings) are booleans — `y` and `n` stay strings, as in `api: y`.
 */
const PYYAML_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PYYAML_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;

export function pyyamlTags(tags: Tags): Tags {
  return tags.map((tag) => {
    if (typeof tag !== 'object' || tag.tag !== 'tag:yaml.org,2002:bool' || !('test' in tag)) {
      return tag;
    }
    const scalar = tag as ScalarTag;
    const value = scalar.test?.test('true') ?? false;
    return {
      ...scalar,
      test: value ? PYYAML_TRUE : PYYAML_FALSE,
      resolve: () => new Scalar(value),
    };
  });
}

/** Options for reading YAML as capa reads it. */
export const PYYAML_OPTIONS = {
  version: '1.1',
  intAsBigInt: true,
  customTags: pyyamlTags,
} as const;
