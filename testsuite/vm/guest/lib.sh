# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the guest scenarios (sourced by dash).
#
#   compare TOOL ARGS...     run "/ref/bin/TOOL ARGS" (kmod) and "/kmodx/bin/TOOL ARGS"
#                            from the same module state; compare exit code, stdout,
#                            normalised stderr and the resulting module state. The state
#                            the kmodx run leaves stays. Prefix with 'rc=N' as the first
#                            argument to also require exit code N.
#   expect RC CMD...         run CMD (absolute path), require exit code RC
#   check_eq WHAT GOT WANT   require GOT = WANT
#   loaded M / not_loaded M  require module M in /proc/modules or not
#   cleanup                  unload every module (reference rmmod), leave an empty state
#   finish                   exit status of the scenario
KVER=$(uname -r)
MODDIR=/lib/modules/$KVER
FAILED=0
N=0

fail() {
	echo "FAIL: $*"
	FAILED=1
}

# name refcnt holders state taint, sorted
modstate() {
	while read -r name size ref holders state addr; do
		t=$(cat /sys/module/$name/taint 2>/dev/null)
		echo "$name $ref $holders $state taint=$t"
	done </proc/modules | sort
}

modnames() {
	cut -d' ' -f1 /proc/modules
}

# bring the module state back to the list of names in $1
restore() {
	i=0
	while [ $i -lt 8 ]; do
		extra=$(modnames | grep -vxF "$1" 2>/dev/null)
		[ -n "$1" ] || extra=$(modnames)
		[ -z "$extra" ] && break
		for m in $extra; do
			/ref/bin/rmmod "$m" 2>/dev/null
		done
		i=$((i + 1))
	done
	for m in $1; do
		grep -q "^$m " /proc/modules || /ref/bin/modprobe -q "$m"
	done
}

cleanup() {
	restore ""
}

# kmod 30 prefixes library messages with a source location and function
# ("rmmod: ERROR: ../libkmod/libkmod-module.c:856 kmod_module_remove_module() ..."),
# kmodx does not (like kmod 34)
# kmodx's line after a signature refusal (why: unsigned, unknown key, ...) is its own,
# checked by the scenarios with expect_out; kmod has none.
normalise() {
	sed -e '/^[a-z]*: ERROR: \(the module\|forcing (--force)\)/d' \
	    -e 's/^libkmodx: \([A-Z]*\): /libkmod: \1: /' \
	    -e 's/^libkmod: \([A-Z]*\) [^ ]*:[0-9][0-9]* [^ ]* /libkmod: \1: /' \
	    -e 's/^\([a-z]*: [A-Z]*: \)[^ ]*libkmod[^ ]*\.c:[0-9][0-9]* [a-z_]*() /\1/' \
	    -e 's|/ref/bin/||g; s|/kmodx/bin/||g' "$1"
}

show() {
	echo "  --- $1"
	sed 's/^/  | /' "$2"
}

compare() {
	want=
	case "$1" in rc=*) want=${1#rc=}; shift ;; esac
	tool=$1
	shift
	N=$((N + 1))
	pre=$(modnames)
	"/ref/bin/$tool" "$@" >/tmp/ref.out 2>/tmp/ref.err
	rrc=$?
	modstate >/tmp/ref.state
	restore "$pre"
	"/kmodx/bin/$tool" "$@" >/tmp/x.out 2>/tmp/x.err
	xrc=$?
	modstate >/tmp/x.state
	normalise /tmp/ref.err >/tmp/ref.nerr
	normalise /tmp/x.err >/tmp/x.nerr
	bad=
	[ "$rrc" = "$xrc" ] || bad="$bad exit($rrc/$xrc)"
	cmp -s /tmp/ref.out /tmp/x.out || bad="$bad stdout"
	cmp -s /tmp/ref.nerr /tmp/x.nerr || bad="$bad stderr"
	cmp -s /tmp/ref.state /tmp/x.state || bad="$bad state"
	[ -z "$want" ] || [ "$xrc" = "$want" ] || bad="$bad exit($xrc, want $want)"
	if [ -n "$bad" ]; then
		fail "$tool $* differs:$bad"
		if [ "$(cat /tmp/ref.out /tmp/x.out | wc -l)" -gt 40 ]; then
			echo "  --- stdout, kmod (-) and kmodx (+), exit $rrc and $xrc"
			diff -u /tmp/ref.out /tmp/x.out | head -n 60 | sed 's/^/  | /'
		else
			show "kmod exit $rrc, stdout" /tmp/ref.out
			show "kmodx exit $xrc, stdout" /tmp/x.out
		fi
		show "kmod stderr" /tmp/ref.err
		show "kmodx stderr" /tmp/x.err
		if ! cmp -s /tmp/ref.state /tmp/x.state; then
			show "kmod state" /tmp/ref.state
			show "kmodx state" /tmp/x.state
		fi
	else
		echo "ok $N: $tool $* (exit $xrc)"
		[ -s /tmp/x.err ] && sed 's/^/  stderr: /' /tmp/x.err | head -n 5
	fi
	return 0
}

expect() {
	want=$1
	shift
	N=$((N + 1))
	"$@" >/tmp/e.out 2>&1
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$* exited $rc, want $want"
		show "output" /tmp/e.out
	else
		echo "ok $N: $* (exit $rc)"
		sed 's/^/  out: /' /tmp/e.out | head -n 5
	fi
	return 0
}

# expect_err PATTERN: the last expect's output contains PATTERN (grep -F)
expect_out() {
	if ! grep -qF -- "$1" /tmp/e.out; then
		fail "output lacks '$1'"
		show "output" /tmp/e.out
	fi
}

check_eq() {
	N=$((N + 1))
	if [ "$2" != "$3" ]; then
		fail "$1: got '$2', want '$3'"
	else
		echo "ok $N: $1 = '$3'"
	fi
}

loaded() {
	grep -q "^$1 " /proc/modules || fail "$1 is not loaded"
}

not_loaded() {
	if grep -q "^$1 " /proc/modules; then fail "$1 is loaded"; fi
}

finish() {
	cleanup
	[ "$FAILED" = 0 ]
}
