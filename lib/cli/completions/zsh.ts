/**
 * The zsh completion script: an autoloadable `_vmtools` (`#compdef` names
 * every command) that can be sourced as well, one `_arguments` call per
 * command written from its declaration.
 * @module
 */
import type { CommandSpec, Completion, OptionDecl } from "../spec.ts";
import type { CompletionData } from "./data.ts";

/** The script `vmtools completions zsh` prints. */
export function zshScript(d: CompletionData): string {
  const names = d.commands.map((c) => c.name);
  const subcommands = d.commands.map((c) => q(`${c.name.slice(2)}:${c.summary}`));
  const cases = d.commands.map((c) =>
    `  ${c.name})\n    _arguments -s -S : \\\n${
      [...c.options.flatMap(optionSpecs), operandSpec(c)].map((s) => `      ${s}`).join(" \\\n")
    }\n    ;;`
  );
  const own = d.own.options.flatMap(optionSpecs).map((s) => `        ${s}`).join(" \\\n");
  return `#compdef vmtools ${names.join(" ")}
# zsh completion for vmtools and its commands. Written by 'vmtools completions
# zsh'. Install it as _vmtools in a directory of $fpath (scripts/install puts
# it in share/zsh/site-functions), or source it after compinit.

# _vmtools_paths KIND: directories (VM homes among them: directories holding
# ${d.settingsFile}) and, for KIND storage, disk and CD-ROM images.
_vmtools_paths() {
  if [[ $1 == storage ]]; then
    compset -P '(rw|wr|snap|ro):'
    _files -g '*.(#i)(${d.images.join("|")})(-.)'
  else
    _files -/
  fi
}

# _vmtools_settings: NAME= for a setting, then yes or no for the yes/no ones.
_vmtools_settings() {
  local -a names=(${d.settings.join(" ")})
  local -a booleans=(${d.booleans.join(" ")})
  local word=$PREFIX
  if compset -P '*='; then
    if (( \${booleans[(Ie)\${word%%=*}]} )); then
      compadd yes no
    else
      _message -e values 'value'
    fi
  else
    compadd -S = -a names
  fi
}

# _vmtools_templates: the built-in templates and the configuration roots'.
_vmtools_templates() {
  local -a names=(${d.templates.join(" ")})
  local dir
  for dir in "\${VMTOOLS_SHARE_DIR:-/usr/local/share/vmtools}" "\${VMTOOLS_ETC_DIR:-/etc/vmtools}" \\
    "\${XDG_CONFIG_HOME:-$HOME/.config}/vmtools"; do
    names+=("$dir"/templates/*.tpl(N:t:r))
  done
  compadd -a names
}

# _vmtools_pids: the ids of the running QEMU processes.
_vmtools_pids() {
  local line
  local -a pids words
  for line in \${(f)"$(ps -e -o pid=,comm= 2>/dev/null)"}; do
    words=(\${(z)line})
    [[ $words[2] == qemu-system* ]] && pids+=($words[1])
  done
  compadd -a pids
}

# _vmtools_complete KIND: what completes KIND.
_vmtools_complete() {
  case $1 in
  storage) _vmtools_paths storage ;;
  vmhome | dir) _vmtools_paths dir ;;
  setting) _vmtools_settings ;;
  template) _vmtools_templates ;;
  pid) _vmtools_pids ;;
  user) _users ;;
  esac
}

# _vmtools_operands DEFAULT [LETTER KIND]...: complete an operand, of KIND
# once option LETTER was given (vmdown -p: process ids).
_vmtools_operands() {
  local kind=$1 w
  shift
  while (( $# >= 2 )); do
    for w in $words[2,CURRENT-1]; do
      [[ $w == -- ]] && break
      [[ $w == -[[:alpha:]]#$1[[:alpha:]]# ]] && kind=$2
    done
    shift 2
  done
  _vmtools_complete $kind
}

_vmtools() {
  local cmd=\${service:-\${words[1]:t}}
  if [[ $cmd == vmtools ]]; then
    if [[ $words[2] == -* ]]; then
      # The program's own options: vmtools --install-links DIR.
      _arguments -s -S : \\
${own}
      return
    fi
    if (( CURRENT == 2 )); then
      local -a subcommands=(
${subcommands.map((s) => `        ${s}`).join("\n")}
        'completions:print a shell completion script'
      )
      _describe -t commands 'vmtools command' subcommands
      return
    fi
    cmd=$words[2]
    if [[ $cmd == completions ]]; then
      (( CURRENT == 3 )) && compadd bash zsh fish
      return
    fi
    [[ $cmd == vm* ]] || cmd=vm$cmd
    shift words
    (( CURRENT-- ))
  fi
  case $cmd in
${cases.join("\n")}
  esac
}

if [[ $funcstack[1] == _vmtools ]]; then
  _vmtools "$@"
else
  compdef _vmtools vmtools ${names.join(" ")}
fi
`;
}

/** The `_arguments` specs of an option: one per name. */
function optionSpecs(o: OptionDecl): string[] {
  const star = o.repeats ? "*" : "";
  const help = `[${o.help.replace(/[\\[\]]/g, (c) => `\\${c}`)}]`;
  const value = o.value === undefined
    ? ""
    : `:${o.value.replaceAll(":", "\\:")}:${action(o.complete ?? "none")}`;
  return [
    ...(o.short ? [q(`${star}-${o.short}${o.value === undefined ? "" : "+"}${help}${value}`)] : []),
    ...(o.long ? [q(`${star}--${o.long}${o.value === undefined ? "" : "="}${help}${value}`)] : []),
  ];
}

/** The spec completing a command's operands. */
function operandSpec(c: CommandSpec): string {
  const switches = c.options.flatMap((o) => o.short && o.operands ? [o.short, kindName(o.operands)] : []);
  return q(`*: :{_vmtools_operands ${[kindName(c.operands), ...switches].join(" ")}}`);
}

/** The `_arguments` action completing `c`. */
function action(c: Completion): string {
  if (typeof c !== "string") return `(${c.join(" ")})`;
  return c === "none" ? " " : `{_vmtools_complete ${c}}`;
}

function kindName(c: Completion): string {
  return typeof c === "string" ? c : "none";
}

/** `s` single-quoted for zsh. */
function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
