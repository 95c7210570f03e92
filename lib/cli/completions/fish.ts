/**
 * The fish completion script: `complete` lines per command written from
 * its declaration, and a few functions listing paths, settings, templates
 * and QEMU processes. `vmtools SUBCOMMAND` completes as the command does.
 * @module
 */
import type { Completion, OptionDecl } from "../spec.ts";
import type { CompletionData } from "./data.ts";

/** The script `vmtools completions fish` prints. */
export function fishScript(d: CompletionData): string {
  const names = d.commands.map((c) => c.name);
  const lines: string[] = [];
  for (const c of d.commands) {
    lines.push(`complete -c ${c.name} -f`);
    const switches = c.options.flatMap((o) =>
      o.short && o.operands ? [`${o.short}=${kindName(o.operands)}`] : []
    );
    lines.push(
      `complete -c ${c.name} -a ${
        q(`(__vmtools_operands ${[kindName(c.operands), ...switches].join(" ")})`)
      }`,
    );
    for (const o of c.options) lines.push(optionLine(c.name, o));
  }
  const subcommands = d.commands.map((c) =>
    `complete -c vmtools -n __fish_use_subcommand -a ${c.name.slice(2)} -d ${q(c.summary)}`
  );
  const own = d.own.options.map((o) => optionLine("vmtools", o, "__vmtools_own"));
  return `# fish completion for vmtools and its commands: ${names.join(" ")}
# Written by 'vmtools completions fish'. Install it as
# vendor_completions.d/NAME.fish for each NAME (scripts/install does), or
# source it. Loading it again changes nothing.

if not set -q __vmtools_completions_loaded
set -g __vmtools_completions_loaded 1
set -g __vmtools_settings ${d.settings.join(" ")}
set -g __vmtools_booleans ${d.booleans.join(" ")}
set -g __vmtools_templates ${d.templates.join(" ")}

# __vmtools_paths KIND: directories (VM homes among them: directories
# holding ${d.settingsFile}) and, for KIND storage, disk and CD-ROM images.
function __vmtools_paths --argument-names kind
    set -l token (commandline -ct)
    set token (string unescape -- $token; or printf '%s\\n' $token)
    set -l access (string match -r '^(?:rw|wr|snap|ro):' -- $token; or echo)
    test "$kind" = storage; or set access ''
    set token (string sub -s (math (string length -- "$access") + 1) -- $token)
    set -l dir (string match -r '.*/' -- $token; or echo)
    set -l base (string sub -s (math (string length -- "$dir") + 1) -- $token)
    set -l real (string replace -r '^~(?=/)' -- $HOME "$dir")
    for path in $real$base*
        set -l shown $dir(string sub -s (math (string length -- "$real") + 1) -- $path)
        if test -d $path
            if test -f $path/${d.settingsFile}
                printf '%s\\t%s\\n' $access$shown/ 'VM home'
            else
                printf '%s\\t%s\\n' $access$shown/ directory
            end
        else if test "$kind" = storage; and string match -qir '\\.(${d.images.join("|")})$' -- $path
            printf '%s\\t%s\\n' $access$shown image
        end
    end
end

# __vmtools_settings: NAME= for a setting, then yes or no for the yes/no ones.
function __vmtools_settings
    set -l token (commandline -ct)
    set -l lead (string match -r '^-[A-Za-z]*o' -- $token; or echo)
    set token (string sub -s (math (string length -- "$lead") + 1) -- $token)
    if string match -q '*=*' -- $token
        set -l name (string split -m 1 = -- $token)[1]
        contains -- $name $__vmtools_booleans; and printf '%s\\n' $lead$name=yes $lead$name=no
    else
        printf '%s=\\n' $lead$__vmtools_settings
    end
end

# __vmtools_templates: the built-in templates and the configuration roots'.
function __vmtools_templates
    printf '%s\\n' $__vmtools_templates
    set -l config $XDG_CONFIG_HOME
    test -n "$config"; or set config $HOME/.config
    set -l share $VMTOOLS_SHARE_DIR
    test -n "$share"; or set share /usr/local/share/vmtools
    set -l etc $VMTOOLS_ETC_DIR
    test -n "$etc"; or set etc /etc/vmtools
    for f in $share/templates/*.tpl $etc/templates/*.tpl $config/vmtools/templates/*.tpl
        string replace -r '.*/(.*)\\.tpl$' '$1' -- $f
    end
end

# __vmtools_pids: the ids of the running QEMU processes.
function __vmtools_pids
    ps -e -o pid=,comm= 2>/dev/null | string match -r '^\\s*(\\d+)\\s+qemu-system' | string match -r '^\\d+$'
end

# __vmtools_complete KIND: what completes KIND.
function __vmtools_complete --argument-names kind
    switch $kind
        case storage
            __vmtools_paths storage
        case vmhome dir
            __vmtools_paths dir
        case setting
            __vmtools_settings
        case template
            __vmtools_templates
        case pid
            __vmtools_pids
        case user
            __fish_complete_users
    end
end

# __vmtools_operands DEFAULT [LETTER=KIND]...: an operand, of KIND once
# option LETTER was given (vmdown -p: process ids).
function __vmtools_operands --argument-names default
    set -l kind $default
    set -l words (commandline -opc)
    for w in $words[2..-1]
        test "$w" = --; and break
        for pair in $argv[2..-1]
            set -l lk (string split = -- $pair)
            string match -qr -- "^-[A-Za-z]*$lk[1][A-Za-z]*\\$" $w; and set kind $lk[2]
        end
    end
    set -l token (commandline -ct)
    string match -q -- '-*' $token; and not contains -- -- $words; and return
    __vmtools_complete $kind
end

# __vmtools_delegate: for vmtools SUBCOMMAND ..., what the command completes.
function __vmtools_delegate
    set -l words (commandline -opc)
    set -l cmd $words[2]
    string match -q 'vm*' -- $cmd; or set cmd vm$cmd
    complete -C (string join ' ' -- (string escape -- $cmd $words[3..-1]) (commandline -ct))
end

# __vmtools_own: whether the line is vmtools's own options (vmtools
# --install-links DIR) rather than a command's.
function __vmtools_own
    set -l words (commandline -opc)
    test (count $words) -lt 2; or string match -q -- '-*' $words[2]
end

${lines.join("\n")}

complete -c vmtools -f
${own.join("\n")}
${subcommands.join("\n")}
complete -c vmtools -n __fish_use_subcommand -a completions -d 'print a shell completion script'
complete -c vmtools -n '__fish_seen_subcommand_from completions' -a 'bash zsh fish'
complete -c vmtools -n 'not __fish_use_subcommand; and not __fish_seen_subcommand_from completions; and not __vmtools_own' \\
    -a '(__vmtools_delegate)'
end
`;
}

/** The `complete` line of one option, offered where the function `condition` says so (default: always). */
function optionLine(command: string, o: OptionDecl, condition?: string): string {
  const names = [...(o.short ? [`-s ${o.short}`] : []), ...(o.long ? [`-l ${o.long}`] : [])];
  let value = "";
  if (o.value !== undefined) {
    const c: Completion = o.complete ?? "none";
    value = typeof c !== "string"
      ? ` -x -a ${q(c.join(" "))}`
      : c === "none"
      ? " -x"
      : ` -x -a ${q(`(__vmtools_complete ${c})`)}`;
  }
  const when = condition ? ` -n ${condition}` : "";
  return `complete -c ${command}${when} ${names.join(" ")}${value} -d ${q(o.help)}`;
}

function kindName(c: Completion): string {
  return typeof c === "string" ? c : "none";
}

/** `s` single-quoted for fish (which escapes \\ and ' there). */
function q(s: string): string {
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}
