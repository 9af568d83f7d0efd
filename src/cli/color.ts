/** `--color auto|always|never`: whether reports use ANSI colours. */
export const COLOR_CHOICES = ['auto', 'always', 'never'] as const;
export type ColorMode = (typeof COLOR_CHOICES)[number];

/** `auto` colours a terminal only, and never when NO_COLOR is set (no-color.org). */
export function useColor(
  mode: ColorMode = 'auto',
  stream: { isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  return stream.isTTY === true && !env.NO_COLOR;
}
