#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Shell completions for kmodx and its tools, generated at build time.

The options come from the option tables in tools/*.c, read through the built binary's
--help (the tables drive getopt, --help and the man page check, so completions cannot
drift from them either); the commands from `kmodx --help`, so a new command is completed
as soon as it is in the dispatch table. What the positional arguments are (module names,
loaded modules, files) is the one thing said here, in ARGS.

Usage: gen-completions.py KMODX OUTDIR
writes OUTDIR/kmodx (bash-completion: installed under every command's name), OUTDIR/_kmodx
(zsh) and OUTDIR/<command>.fish (fish loads a file per command).
"""
import os
import re
import subprocess
import sys

# What follows the options: module names from the module directory's index, loaded
# modules, module files, kernel versions, parameters (kmodx params), or nothing.
ARGS = {"lsmod": None, "list": None, "insmod": "files", "rmmod": "loaded",
        "modinfo": "modules-files", "modprobe": "modules", "depmod": "versions",
        "static-nodes": None, "taint": None, "params": "params",
        "modules-load": "files"}
DEFAULT_ARGS = "files"  # a command this file does not know yet
# modprobe options that change what the arguments are
MODPROBE_REMOVE = ("-r", "--remove")
MODPROBE_FILE = ("--show-modversions", "--dump-modversions", "--show-exports")
# option argument kinds, by the option's metavar in --help
META = {"DIR": "dirs", "FILE": "files-any", "PATH": "files-any", "VERSION": "versions"}

OPT_RE = re.compile(r"^\t(?:-(\S), |    )--([a-z0-9][a-z0-9-]*)(?:=(\S+))?\s+(.*)$")


class Opt:
    def __init__(self, short, long, meta, help_text):
        self.short, self.long, self.meta, self.help = short, long, meta, help_text
        self.kind = META.get(meta) if meta else None
        self.choices = choices(help_text) if meta and not self.kind else None


def choices(help_text):
    """'human (default), tmpfiles or devname' -> the three words."""
    text = help_text.replace(" (default)", "")
    m = re.fullmatch(r"([a-z]+(?:, [a-z]+)*) or ([a-z]+)", text)
    return m.group(1).split(", ") + [m.group(2)] if m else None


def run_help(kmodx, *args):
    return subprocess.run([kmodx, *args, "--help"], capture_output=True, text=True,
                          check=True).stdout


def parse_tool(kmodx, name):
    opts = []
    for line in run_help(kmodx, name).splitlines():
        m = OPT_RE.match(line)
        if m:
            opts.append(Opt(*m.groups()))
    return opts


def parse_kmodx(kmodx):
    text = run_help(kmodx)
    commands, programs, section = [], [], None
    for line in text.splitlines():
        if line.endswith(":") and not line.startswith("\t"):
            section = line[:-1]
        elif section == "Commands" and line.startswith("\t"):
            name, _, summary = line.strip().partition(" ")
            commands.append((name, summary.strip()))
        elif section == "Usage" and "|" in line:
            programs = line.split()[0].split("|")
    tools = {n: parse_tool(kmodx, "lsmod" if n == "list" else n)
             for n, _ in commands if n != "help"}
    top = [Opt(m.group(1), m.group(2), m.group(3), m.group(4))
           for m in map(OPT_RE.match, text.splitlines()) if m]
    return commands, programs, tools, top


def args_of(tool):
    return ARGS.get(tool, DEFAULT_ARGS)


def fn(tool):
    return tool.replace("-", "_")


# ---- bash ----

BASH_HELPERS = r'''
# The root, module directory and kernel version the command line asks for.
_kmodx_root()
{
	local w root=
	for w in "${words[@]}"; do
		case $w in
		--root=* | --basedir=* | --dirname=*) root=${w#*=} ;;
		esac
	done
	printf '%s' "$root"
}

_kmodx_moddir()
{
	local i ver
	ver=$(uname -r)
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-S | -k) ver=${words[i + 1]} ;;
		--set-version=*) ver=${words[i]#*=} ;;
		esac
	done
	printf '%s/lib/modules/%s' "$(_kmodx_root)" "$ver"
}

# Module names from the module directory's index (modules.dep, modules.builtin).
_kmodx_modules()
{
	local dir
	dir=$(_kmodx_moddir)
	COMPREPLY+=($(compgen -W "$(sed -e 's/:.*//' -e 's|.*/||' -e 's/\.ko.*//' \
		"$dir/modules.dep" "$dir/modules.builtin" 2>/dev/null)" -- "$cur"))
}

_kmodx_loaded()
{
	COMPREPLY+=($(compgen -W "$(cut -d' ' -f1 "$(_kmodx_root)/proc/modules" 2>/dev/null)" \
		-- "$cur"))
}

_kmodx_versions()
{
	COMPREPLY+=($(compgen -W "$(ls "$(_kmodx_root)/lib/modules" 2>/dev/null)" -- "$cur"))
}

_kmodx_files()
{
	_filedir 'ko?(.gz|.xz|.zst)'
}

# kmodx params MODULE NAME=VALUE...: modules with parameters, then their names.
_kmodx_params()
{
	local mod=$1 root
	root=$(_kmodx_root)
	if [[ -z $mod ]]; then
		COMPREPLY+=($(compgen -W "$(cd "$root/sys/module" 2>/dev/null &&
			ls -d -- */parameters 2>/dev/null | sed 's|/parameters||')" -- "$cur"))
		return
	fi
	COMPREPLY+=($(compgen -S = -W "$(ls "$root/sys/module/${mod//-/_}/parameters" \
		2>/dev/null)" -- "$cur"))
	compopt -o nospace
}
'''


def bash_tool(tool, opts):
    words = []
    for o in opts:
        words.append("--" + o.long + ("=" if o.meta else ""))
        if o.short:
            words.append("-" + o.short)
    arg_cases = []
    for o in opts:
        if not o.meta:
            continue
        pats = " | ".join(([f"-{o.short}"] if o.short else []) + [f"--{o.long}"])
        if o.kind == "dirs":
            act = "_filedir -d"
        elif o.kind == "files-any":
            act = "_filedir"
        elif o.kind == "versions":
            act = "_kmodx_versions"
        elif o.choices:
            act = f"COMPREPLY=($(compgen -W '{' '.join(o.choices)}' -- \"$cur\"))"
        else:
            act = ":"
        arg_cases.append(f"\t{pats})\n\t\t{act}\n\t\treturn\n\t\t;;")
    with_arg = sorted({f"-{o.short}" for o in opts if o.meta and o.short} |
                      {f"--{o.long}" for o in opts if o.meta})
    kind = args_of(tool)
    if kind is None:
        positional = "\t:"
    elif kind == "modules":
        positional = ('\tlocal rm=\' (-[a-zA-Z]*r[a-zA-Z]*|--remove) \' fl=\' --(show-modversions|dump-modversions|show-exports) \'\n'
                      '\tif [[ " ${words[*]} " =~ $rm ]]; then\n'
                      '\t\t_kmodx_loaded\n'
                      '\telif [[ " ${words[*]} " =~ $fl ]]; then\n'
                      '\t\t_kmodx_files\n'
                      '\telse\n\t\t_kmodx_modules\n\tfi')
    elif kind == "modules-files":
        positional = "\t_kmodx_modules\n\t_kmodx_files"
    elif kind == "params":
        positional = '\t_kmodx_params "${args[0]-}"'
    else:
        positional = {"files": "\t_kmodx_files", "loaded": "\t_kmodx_loaded",
                      "versions": "\t_kmodx_versions"}[kind]
    cases = "\n".join(arg_cases) or "\t*) ;;"
    return f'''
# {tool}: words[off] is the command word
_kmodx_tool_{fn(tool)}()
{{
	local off=$1 i args=()
	case $prev in
{cases}
	esac
	$split && return
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '{" ".join(words)}' -- "$cur"))
		[[ ${{COMPREPLY-}} == *= ]] && compopt -o nospace
		return
	fi
	# the positional arguments so far (an option's separate argument is skipped)
	for ((i = off + 1; i < cword; i++)); do
		case ${{words[i]}} in
		{" | ".join(with_arg) if with_arg else "--no-such-option"}) ((i++)) ;;
		-*) ;;
		*) args+=("${{words[i]}}") ;;
		esac
	done
{positional}
}}
'''


def bash(commands, programs, tools, top):
    out = ["# bash completion for kmodx and its tools: generated by tools/gen-completions.py",
           "# from the tools' option tables. Do not edit.", BASH_HELPERS]
    for tool, opts in tools.items():
        out.append(bash_tool(tool, opts))
    names = [n for n, _ in commands]
    cases = "\n".join(f"\t{n})\n\t\t_kmodx_tool_{fn(n)} $i\n\t\t;;" for n in tools)
    top_words = " ".join(names + [w for o in top for w in (f"-{o.short}", f"--{o.long}")])
    out.append(f'''
_kmodx()
{{
	local cur prev words cword split i
	_init_completion -s || return
	for ((i = 1; i < cword; i++)); do
		[[ ${{words[i]}} != -* ]] && break
	done
	if ((i >= cword)); then
		COMPREPLY=($(compgen -W '{top_words}' -- "$cur"))
		return
	fi
	case ${{words[i]}} in
{cases}
	esac
}}
complete -F _kmodx kmodx kmod
''')
    for p in programs:
        out.append(f'''_kmodx_{fn(p)}()
{{
	local cur prev words cword split
	_init_completion -s || return
	_kmodx_tool_{fn(p)} 0
}}
complete -F _kmodx_{fn(p)} {p}
''')
    return "\n".join(out)


# ---- zsh ----

def zq(text):
    """A zsh single-quoted word."""
    return "'" + text.replace("'", "'\\''") + "'"


def zdesc(text):
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]").replace(":", "\\:")


def zsh_action(o):
    if o.kind == "dirs":
        return "_files -/"
    if o.kind == "files-any":
        return "_files"
    if o.kind == "versions":
        return "_kmodx_versions"
    if o.choices:
        return "(" + " ".join(o.choices) + ")"
    return " "


def zsh_tool(tool, opts):
    specs = []
    for o in opts:
        arg = f":{zdesc(o.meta.lower())}:{zsh_action(o)}" if o.meta else ""
        desc = f"[{zdesc(o.help)}]"
        excl = f"(-{o.short} --{o.long})" if o.short else ""
        if o.short:
            specs.append(zq(excl + f"-{o.short}" + ("+" if o.meta else "") + desc + arg))
        specs.append(zq(excl + f"--{o.long}" + ("=" if o.meta else "") + desc + arg))
    kind = args_of(tool)
    pos = {None: None, "files": "_kmodx_files", "loaded": "_kmodx_loaded",
           "versions": "_kmodx_versions", "modules": "_kmodx_modprobe_args",
           "modules-files": "_kmodx_modules_files", "params": "_kmodx_param_args"}[kind]
    if pos:
        specs.append(zq(f"*:argument:{pos}"))
    body = " \\\n\t\t".join(specs)
    return f'''
_kmodx_cmd_{fn(tool)}() {{
	_arguments -s -S \\
		{body}
}}
'''


ZSH_HELPERS = r'''
_kmodx_root() {
	local w
	REPLY=
	for w in $words; do
		case $w in
		--root=*|--basedir=*|--dirname=*) REPLY=${w#*=} ;;
		esac
	done
}

_kmodx_moddir() {
	local i ver=$(uname -r)
	for (( i = 1; i < CURRENT; i++ )); do
		case $words[i] in
		-S|-k) ver=$words[i+1] ;;
		--set-version=*) ver=${words[i]#*=} ;;
		esac
	done
	_kmodx_root
	REPLY=$REPLY/lib/modules/$ver
}

# Module names from the module directory's index (modules.dep, modules.builtin).
_kmodx_modules() {
	local -a mods
	_kmodx_moddir
	mods=( ${${${(f)"$(cat $REPLY/modules.dep $REPLY/modules.builtin 2>/dev/null)"}%%:*}:t} )
	mods=( ${mods%%.ko*} )
	_wanted modules expl module compadd -a mods
}

_kmodx_loaded() {
	local -a mods
	_kmodx_root
	mods=( ${${(f)"$(cat $REPLY/proc/modules 2>/dev/null)"}%% *} )
	_wanted modules expl 'loaded module' compadd -a mods
}

_kmodx_versions() {
	local -a vers
	_kmodx_root
	vers=( $REPLY/lib/modules/*(N/:t) )
	_wanted versions expl 'kernel version' compadd -a vers
}

_kmodx_files() {
	_files -g '*.ko(|.gz|.xz|.zst)(-.)'
}

_kmodx_modules_files() {
	_alternative 'modules:module:_kmodx_modules' 'files:module file:_kmodx_files'
}

_kmodx_modprobe_args() {
	if (( ${words[(I)(-r|--remove|-[a-zA-Z]#r[a-zA-Z]#)]} )); then
		_kmodx_loaded
	elif (( ${words[(I)(--show-modversions|--dump-modversions|--show-exports)]} )); then
		_kmodx_files
	else
		_kmodx_modules
	fi
}

# kmodx params MODULE NAME=VALUE...: modules with parameters, then their names.
_kmodx_param_args() {
	local -a names mods
	local mod
	_kmodx_root
	mod=${${words[2,-1]:#-*}[1]}
	if [[ -z $mod || $words[CURRENT] == $mod ]]; then
		mods=( $REPLY/sys/module/*/parameters(N/:h:t) )
		_wanted modules expl module compadd -a mods
	else
		names=( $REPLY/sys/module/${mod//-/_}/parameters/*(N:t) )
		_wanted parameters expl parameter compadd -S = -a names
	fi
}
'''


def zsh(commands, programs, tools, top):
    out = ["#compdef kmodx kmod " + " ".join(programs),
           "# zsh completion for kmodx and its tools: generated by tools/gen-completions.py",
           "# from the tools' option tables. Do not edit.", ZSH_HELPERS]
    for tool, opts in tools.items():
        out.append(zsh_tool(tool, opts))
    cmds = " ".join(zq(f"{n}:{zdesc(s)}") for n, s in commands)
    cases = "\n".join(f"\t\t{n}) _kmodx_cmd_{fn(n)} ;;" for n in tools)
    top_specs = " ".join(zq(f"(- *)--{o.long}[{zdesc(o.help)}]") for o in top)
    out.append(f'''
_kmodx_command() {{
	local -a cmds
	cmds=( {cmds} )
	_arguments -C {top_specs} '1:command:->command' '*::argument:->argument'
	case $state in
	command) _describe -t commands command cmds ;;
	argument)
		case $words[1] in
{cases}
		esac
		;;
	esac
}}

case $service in
kmodx|kmod) _kmodx_command "$@" ;;
*) _kmodx_cmd_${{service//-/_}} "$@" ;;
esac
''')
    return "\n".join(out)


# ---- fish ----

FISH_HELPERS = r'''
function __kmodx_root
    set -l root ''
    for t in (commandline -opc)
        switch $t
            case '--root=*' '--basedir=*' '--dirname=*'
                set root (string split -m1 = -- $t)[2]
        end
    end
    echo $root
end

function __kmodx_moddir
    set -l ver (uname -r)
    set -l tokens (commandline -opc)
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case -S -k
                set ver $tokens[(math $i + 1)]
            case '--set-version=*'
                set ver (string split -m1 = -- $tokens[$i])[2]
        end
    end
    echo (__kmodx_root)/lib/modules/$ver
end

# module names from the module directory's index (modules.dep, modules.builtin)
function __kmodx_modules
    set -l dir (__kmodx_moddir)
    cat $dir/modules.dep $dir/modules.builtin 2>/dev/null | string replace -r ':.*' '' \
        | string replace -r '.*/' '' | string replace -r '\.ko.*' ''
end

function __kmodx_loaded
    string replace -r ' .*' '' < (__kmodx_root)/proc/modules 2>/dev/null
end

function __kmodx_versions
    for d in (__kmodx_root)/lib/modules/*/
        basename $d
    end
end

function __kmodx_files
    __fish_complete_suffix .ko
    __fish_complete_suffix .ko.gz
    __fish_complete_suffix .ko.xz
    __fish_complete_suffix .ko.zst
end

function __kmodx_has
    contains -- $argv[1] (commandline -opc)
end

# kmodx params MODULE NAME=VALUE...: modules with parameters, then their names
function __kmodx_params
    set -l root (__kmodx_root)
    set -l words (string match -v -- '-*' (commandline -opc))
    set -l i (contains -i -- params $words)
    set -l mod $words[(math $i + 1)]
    if test -z "$mod"
        for d in $root/sys/module/*/parameters
            basename (dirname $d)
        end
    else
        for p in $root/sys/module/(string replace -a - _ -- $mod)/parameters/*
            echo (basename $p)=
        end
    end
end
'''


def fish_opts(cmd, cond, opts):
    lines = []
    for o in opts:
        parts = [f"complete -c {cmd}"]
        if cond:
            parts.append(f"-n '{cond}'")
        if o.short:
            parts.append(f"-s {o.short}")
        parts.append(f"-l {o.long}")
        if o.meta:
            if o.kind == "dirs":
                parts.append("-x -a '(__fish_complete_directories)'")
            elif o.kind == "files-any":
                parts.append("-r -F")
            elif o.kind == "versions":
                parts.append("-x -a '(__kmodx_versions)'")
            elif o.choices:
                parts.append(f"-x -a '{' '.join(o.choices)}'")
            else:
                parts.append("-x")
        parts.append("-d " + fq(o.help))
        lines.append(" ".join(parts))
    return lines


def fq(text):
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish_args(cmd, cond, tool):
    kind = args_of(tool)
    c = f"-n '{cond}' " if cond else ""
    if kind is None:
        return []
    if kind == "modules":
        rm = " || ".join(f"__kmodx_has {w}" for w in MODPROBE_REMOVE)
        fl = " || ".join(f"__kmodx_has {w}" for w in MODPROBE_FILE)
        base = f"{cond}; and " if cond else ""
        return [f"complete -c {cmd} -n '{base}{rm}' -f -a '(__kmodx_loaded)'",
                f"complete -c {cmd} -n '{base}{fl}' -f -a '(__kmodx_files)'",
                f"complete -c {cmd} -n '{base}not {rm}; and not {fl}' -f -a '(__kmodx_modules)'"]
    act = {"files": "(__kmodx_files)", "loaded": "(__kmodx_loaded)",
           "versions": "(__kmodx_versions)", "modules-files": "(__kmodx_modules) (__kmodx_files)",
           "params": "(__kmodx_params)"}[kind]
    return [f"complete -c {cmd} {c}-f -a '{act}'"]


def fish(commands, programs, tools, top):
    header = ["# fish completion for kmodx and its tools: generated by tools/gen-completions.py",
              "# from the tools' option tables. Do not edit.", FISH_HELPERS]
    files = {}
    for p in programs:
        lines = header + [f"complete -c {p} -f"] + fish_opts(p, None, tools[p])
        files[p] = "\n".join(lines + fish_args(p, None, p)) + "\n"
    names = [n for n, _ in commands]
    main = header + ["complete -c kmodx -f"]
    for o in top:
        short = f"-s {o.short} " if o.short else ""
        main.append(f"complete -c kmodx -n '__fish_use_subcommand' {short}-l {o.long} "
                    f"-d {fq(o.help)}")
    for n, summary in commands:
        main.append(f"complete -c kmodx -n '__fish_use_subcommand' -a {n} -d {fq(summary)}")
    for tool, opts in tools.items():
        cond = f"__fish_seen_subcommand_from {tool}"
        main += fish_opts("kmodx", cond, opts) + fish_args("kmodx", cond, tool)
    files["kmodx"] = "\n".join(main) + "\n"
    files["kmod"] = "complete -c kmod -w kmodx\n"
    assert set(names) >= set(tools)
    return files


def main():
    kmodx, outdir = sys.argv[1], sys.argv[2]
    commands, programs, tools, top = parse_kmodx(kmodx)
    if not commands or not programs or not all(tools.values()):
        sys.exit(f"gen-completions: cannot read the option tables from {kmodx} --help")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "kmodx"), "w") as f:
        f.write(bash(commands, programs, tools, top))
    with open(os.path.join(outdir, "_kmodx"), "w") as f:
        f.write(zsh(commands, programs, tools, top))
    for name, text in fish(commands, programs, tools, top).items():
        with open(os.path.join(outdir, name + ".fish"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
