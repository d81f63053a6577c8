#!/bin/sh
# bench-candidates-ab.sh BEFORE AFTER: compares the internal/candidates benchmarks at two
# git revisions in one run, two ways:
#   time: each top-level benchmark at BEFORE then AFTER (order swapped every round), 5
#         rounds, one CPU: medians of -count 5, per sub-benchmark;
#   instructions: valgrind's callgrind counts each benchmark's instructions per operation
#         (the process's count at two iteration counts, differenced), which a loaded
#         machine does not disturb; GOGC=off so that no collection lands at a varying point,
#         GODEBUG=asyncpreemptoff=1 as callgrind does not follow Go's preemption signals.
# Example: scripts/bench-candidates-ab.sh 6fcc15d HEAD
# Needs go and git; installs valgrind (Debian package) when missing.
set -eu
before=${1:?usage: $0 BEFORE AFTER}
after=${2:?usage: $0 BEFORE AFTER}
repo=$(git rev-parse --show-toplevel)
if ! command -v valgrind >/dev/null; then
	apt-get update
	apt-get install -y -o DPkg::Lock::Timeout=900 valgrind
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for side in before after; do
	eval rev=\$$side
	mkdir "$work/$side"
	git -C "$repo" archive "$rev" | tar -x -C "$work/$side"
	(cd "$work/$side" && go test -c -o "$work/$side.test" ./internal/candidates)
done
cd "$work"

echo "== time (ns/op, median of 5, one CPU)"
for i in 1 2 3 4 5; do
	for b in FindFlat FindNested ExplodingTrees FindGate; do
		if [ $((i % 2)) = 1 ]; then order="before after"; else order="after before"; fi
		for side in $order; do
			./$side.test -test.run '^$' -test.bench "^Benchmark$b\$" -test.count 1 -test.cpu 1 | grep ns/op >>"$side.txt"
		done
	done
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for name in $(awk '{print $1}' before.txt | sort -u); do
	b=$(awk -v n="$name" '$1 == n {print $3}' before.txt | median)
	a=$(awk -v n="$name" '$1 == n {print $3}' after.txt | median)
	awk -v n="$name" -v b="$b" -v a="$a" 'BEGIN {printf "%-56s %12d %12d %+7.1f%%\n", n, b, a, 100 * (a - b) / b}'
done

echo "== instructions per operation (callgrind)"
ir() {
	GOGC=off GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		./$1.test -test.run '^$' -test.bench "$2" -test.benchtime "${3}x" -test.cpu 1 2>&1 | sed -n 's/.*Collected : //p'
}
while read -r name pat k1 k2; do
	b=$(( ($(ir before "$pat" "$k2") - $(ir before "$pat" "$k1")) / (k2 - k1) ))
	a=$(( ($(ir after "$pat" "$k2") - $(ir after "$pat" "$k1")) / (k2 - k1) ))
	awk -v n="$name" -v b="$b" -v a="$a" 'BEGIN {printf "%-34s %12d %12d %+6.1f%%\n", n, b, a, 100 * (a - b) / b}'
done <<'LIST'
flat-1000-limit10(+required) ^BenchmarkFindFlat$/^n=1000$/^limit=10$ 10 60
flat-1000-limit1000(+required) ^BenchmarkFindFlat$/^n=1000$/^limit=1000$ 10 60
flat-10000-limit10(+required) ^BenchmarkFindFlat$/^n=10000$/^limit=10$ 10 60
flat-10000-limit1000(+required) ^BenchmarkFindFlat$/^n=10000$/^limit=1000$ 10 60
nested ^BenchmarkFindNested$ 5 25
exploding-6groups ^BenchmarkExplodingTrees$/6groups 5 25
exploding-8groups ^BenchmarkExplodingTrees$/8groups 5 25
exploding-64groups ^BenchmarkExplodingTrees$/64groups 2 7
gate ^BenchmarkFindGate$ 5 25
LIST
