// Text from agents (and from the commands they ran) on its way to a terminal: every C0 and C1 control character
// but line feed and tab, and DEL, is shown as its `\uXXXX` escape instead of being sent, so that no agent output
// can set the window title, write the clipboard (OSC 52), clear the screen, or return the cursor to overwrite a
// line with a fake one. The escape is also JSON's own, so a JSON document passed through stays exact.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
