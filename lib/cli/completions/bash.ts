/**
 * The bash completion script: one function, `_vmtools`, for every command
 * name, with each command's options and value kinds written in as `case`
 * tables. Needs bash 4.2 and nothing of the bash-completion package.
 * @module
 */
import type { Completion } from "../spec.ts";
import type { CompletionData } from "./data.ts";

/** The script `vmtools completions bash` prints. */
export function bashScript(d: CompletionData): string {
  const names = d.commands.map((c) => c.name);
  const subcommands = [...names, ...names.map((n) => n.slice(2)), "completions"];
  const commandCases: string[] = [];
  const valueCases: string[] = [];
  const switchCases: string[] = [];
  for (const c of d.commands) {
    const words = c.options.flatMap((o) => [
      ...(o.short ? [`-${o.short}`] : []),
      ...(o.long ? [`--${o.long}`] : []),
    ]);
    const valued = c.options.filter((o) => o.short && o.value !== undefined);
    commandCases.push(
      `  ${c.name}) opts=${q(words.join(" "))} valued=${q(valued.map((o) => o.short).join(""))} ` +
        `operands=${kindWord(c.operands)} ;;`,
    );
    for (const o of valued) valueCases.push(caseLine(`${c.name}:${o.short}`, o.complete ?? "none"));
    for (const o of c.options.filter((o) => o.short && o.operands)) {
      switchCases.push(caseLine(`${c.name}:${o.short}`, o.operands!, "operands"));
    }
  }
  const images = d.images.map((e) => `*.${e}`).join(" | ");
  const ownWords = d.own.options.flatMap((o) => [
    ...(o.short ? [`-${o.short}`] : []),
    ...(o.long ? [`--${o.long}`] : []),
  ]);
  const ownValueCases = d.own.options.filter((o) => o.long && o.value !== undefined).map((o) =>
    caseLine(`--${o.long}`, o.complete ?? "none")
  );
  return `# bash completion for vmtools and its commands: ${names.join(" ")}
# Written by 'vmtools completions bash'. Source it from ~/.bashrc, or install
# it as share/bash-completion/completions/NAME for each NAME (scripts/install
# does).

_vmtools_subcommands=${q(subcommands.join(" "))}
_vmtools_settings=${q(d.settings.join(" "))}
_vmtools_booleans=${q(` ${d.booleans.join(" ")} `)}
_vmtools_templates=${q(d.templates.join(" "))}
_vmtools_own=${q(ownWords.join(" "))}

# _vmtools_dequote WORD: REPLY is WORD as the shell will read it (quotes
# and backslashes removed, an open quote closed).
_vmtools_dequote() {
  local in=$1 out= c q= i
  for ((i = 0; i < \${#in}; i++)); do
    c=\${in:i:1}
    if [[ $q == "'" ]]; then
      if [[ $c == "'" ]]; then q=; else out+=$c; fi
    elif [[ $c == '\\' ]]; then
      ((i++))
      out+=\${in:i:1}
    elif [[ $q == '"' ]]; then
      if [[ $c == '"' ]]; then q=; else out+=$c; fi
    elif [[ $c == [\\"\\'] ]]; then
      q=$c
    else
      out+=$c
    fi
  done
  REPLY=$out
}

# _vmtools_paths KIND WORD: adds to found the directories (VM homes among
# them: directories holding ${d.settingsFile}) beginning with WORD and, for KIND
# storage, the disk and CD-ROM image files. Hidden names only when WORD's
# last part starts with a dot.
_vmtools_paths() {
  local kind=$1 word=$2 f path hidden=
  local -a all
  [[ \${word##*/} == .* ]] && hidden=1
  mapfile -t all < <(compgen -f -- "$word")
  for f in "\${all[@]}"; do
    [[ -z $hidden && \${f##*/} == .* ]] && continue
    path=$f
    [[ $path == "~" || $path == "~/"* ]] && path=$HOME\${path:1}
    if [[ -d $path ]]; then
      found+=("$f")
    elif [[ $kind == storage ]]; then
      case \${f,,} in
      ${images}) found+=("$f") ;;
      esac
    fi
  done
  compopt -o filenames 2>/dev/null
}

# _vmtools_installed_templates: the templates/NAME.tpl files of the
# configuration roots.
_vmtools_installed_templates() {
  local dir f
  for dir in "\${VMTOOLS_SHARE_DIR:-/usr/local/share/vmtools}" "\${VMTOOLS_ETC_DIR:-/etc/vmtools}" \\
    "\${XDG_CONFIG_HOME:-$HOME/.config}/vmtools"; do
    for f in "$dir"/templates/*.tpl; do
      [[ -f $f ]] || continue
      f=\${f##*/}
      printf '%s\\n' "\${f%.tpl}"
    done
  done
}

# _vmtools_qemu_pids: the ids of the running QEMU processes.
_vmtools_qemu_pids() {
  local pid comm
  while read -r pid comm; do
    [[ $comm == qemu-system* ]] && printf '%s\\n' "$pid"
  done < <(ps -e -o pid=,comm= 2>/dev/null)
}

_vmtools() {
  local IFS=$' \\t\\n' cmd=\${COMP_WORDS[0]##*/} first=1 cword=$COMP_CWORD
  local cur=\${COMP_WORDS[COMP_CWORD]} pre=
  COMPREPLY=()
  if [[ $cmd == vmtools && \${COMP_WORDS[1]} == -* ]]; then
    # The program's own options (vmtools --install-links DIR): the value of
    # the one before (also as --name=VALUE, which bash splits at the =).
    local before=\${COMP_WORDS[cword - 1]} kind= words=
    if [[ $cur == = ]]; then
      cur=
    elif [[ $before == = ]]; then
      before=\${COMP_WORDS[cword - 2]}
    fi
    case $before in
${ownValueCases.join("\n")}
    esac
    if [[ $kind == dir || $kind == vmhome || $kind == storage ]]; then
      local -a found=()
      _vmtools_dequote "$cur"
      _vmtools_paths "$kind" "$REPLY"
      COMPREPLY=("\${found[@]}")
    elif [[ $kind == words ]]; then
      COMPREPLY=($(compgen -W "$words" -- "$cur"))
    elif [[ -z $kind && $cur == -* ]]; then
      COMPREPLY=($(compgen -W "$_vmtools_own" -- "$cur"))
    fi
    return
  fi
  if [[ $cmd == vmtools ]]; then
    if ((cword == 1)); then
      COMPREPLY=($(compgen -W "$_vmtools_subcommands" -- "$cur"))
      return
    fi
    cmd=\${COMP_WORDS[1]}
    if [[ $cmd == completions ]]; then
      ((cword == 2)) && COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"))
      return
    fi
    [[ $cmd == vm* ]] || cmd=vm$cmd
    first=2
  fi
  # NAME=VALUE and rw:PATH reach us split at = and : (COMP_WORDBREAKS), and
  # readline replaces only what follows the break: put the word together.
  if [[ $cur == [=:] ]] && ((cword > first)); then
    pre=\${COMP_WORDS[cword - 1]}$cur cur= cword=$((cword - 1))
  elif [[ \${COMP_WORDS[cword - 1]} == [=:] ]] && ((cword - 1 > first)); then
    pre=\${COMP_WORDS[cword - 2]}\${COMP_WORDS[cword - 1]} cword=$((cword - 2))
  fi
  local token=$pre$cur opts valued operands
  case $cmd in
${commandCases.join("\n")}
  *) return ;;
  esac

  # Which option the word is the value of, if any; what the operands are.
  local i k l w expect= ended= kind words=
  for ((i = first; i < cword; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ -n $expect ]]; then
      expect=
      continue
    fi
    [[ -n $ended || $w != -?* || $w == --?* ]] && continue
    if [[ $w == -- ]]; then
      ended=1
      continue
    fi
    for ((k = 1; k < \${#w}; k++)); do
      l=\${w:k:1}
      case $cmd:$l in
${switchCases.join("\n")}
      esac
      if [[ $valued == *"$l"* ]]; then
        ((k == \${#w} - 1)) && expect=$l
        break
      fi
    done
  done

  local value vprefix= access=
  if [[ -n $expect ]]; then
    l=$expect value=$token
  elif [[ -z $ended && $token == -* && $token != --* ]]; then
    # A value glued to its option (-ovm_ram_size=4G), or options.
    for ((k = 1; k < \${#token}; k++)); do
      [[ $valued == *"\${token:k:1}"* ]] && break
    done
    if ((k >= \${#token} - 1)); then
      COMPREPLY=($(compgen -W "$opts" -- "$cur"))
      return
    fi
    l=\${token:k:1} vprefix=\${token:0:k+1} value=\${token:k+1}
  elif [[ -z $ended && $token == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  else
    kind=$operands value=$token
  fi
  if [[ -z $kind ]]; then
    case $cmd:$l in
${valueCases.join("\n")}
    *) kind=none ;;
    esac
  fi

  _vmtools_dequote "$value"
  value=$REPLY
  local -a found=()
  case $kind in
  storage | vmhome | dir)
    if [[ $kind == storage && $value =~ ^(rw|wr|snap|ro): ]]; then
      access=\${BASH_REMATCH[0]} value=\${value#*:}
    fi
    _vmtools_paths "$kind" "$value"
    ;;
  setting)
    if [[ $value == *=* ]]; then
      [[ $_vmtools_booleans == *" \${value%%=*} "* ]] &&
        found=($(compgen -P "\${value%%=*}=" -W "yes no" -- "\${value#*=}"))
    else
      found=($(compgen -S = -W "$_vmtools_settings" -- "$value"))
      compopt -o nospace 2>/dev/null
    fi
    ;;
  template) found=($(compgen -W "$_vmtools_templates $(_vmtools_installed_templates)" -- "$value")) ;;
  pid) found=($(compgen -W "$(_vmtools_qemu_pids)" -- "$value")) ;;
  user) found=($(compgen -u -- "$value")) ;;
  words) found=($(compgen -W "$words" -- "$value")) ;;
  esac
  for w in "\${found[@]}"; do
    w=$vprefix$access$w
    COMPREPLY+=("\${w:\${#pre}}")
  done
}

complete -F _vmtools vmtools ${names.join(" ")}
`;
}

/** A `case` branch setting `kind` (or `variable`) for a completion. */
function caseLine(pattern: string, c: Completion, variable = "kind"): string {
  if (typeof c === "string") return `    ${pattern}) ${variable}=${c} ;;`;
  return `    ${pattern}) ${variable}=words words=${q(c.join(" "))} ;;`;
}

/** A completion as the single word the operands table holds (word lists complete nothing there). */
function kindWord(c: Completion): string {
  return typeof c === "string" ? c : "none";
}

/** `s` single-quoted for bash. */
function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
