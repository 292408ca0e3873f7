#!/usr/bin/env bash
# Load time of (require 'vireo.core), two commits compared, from source and from the jar.
#
#   bench/require-time.sh [--old REF] [--new REF] [--runs N] [--keep]
#
#   --old REF   the "before" commit (default HEAD~1)
#   --new REF   the "after" commit (default HEAD)
#   --runs N    fresh JVMs per commit and form (default 5), old and new interleaved
#   --keep      keep the temporary directory (its path is printed)
#
# For each REF it extracts the tree (git archive) into a temporary directory,
# prepares it (bin/clojure -T:build prep: the Java class compiled, as a git
# dependency is) and builds its jar (bin/clojure -T:build jar), leaving the
# working tree, target/ and ~/.m2 alone. The classpath is Vireo's
# dependencies without a driver (bin/clojure -Spath), then either the tree's
# src/, resources/ and target/prep ("source": Clojure compiles every
# namespace) or its jar ("jar": AOT classes). Each run is a new plain `java`
# running clojure.main on one form that times the require itself: wall time
# and the main thread's CPU time (steadier on a busy machine), plus the JVM's
# wall time to exit. Prints every run and the medians per commit and form,
# with the load average at the start of each run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
old_ref=HEAD~1
new_ref=HEAD
runs=5
keep=false
while [[ $# -gt 0 ]]; do
  case $1 in
    --old) old_ref=$2; shift 2 ;;
    --new) new_ref=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    -h | --help) sed -n '2,/^set -e/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "require-time.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vireo-require-time.XXXXXX")
if $keep; then echo "require-time.sh: working directory $tmp (kept)"; else trap 'rm -rf "$tmp"' EXIT; fi
say() { printf 'require-time.sh: %s\n' "$*" >&2; }

declare -A cp
for side in old new; do
  ref=$old_ref; [[ $side == new ]] && ref=$new_ref
  dir=$tmp/$side
  mkdir -p "$dir"
  say "$side = $(git -C "$root" rev-parse --short "$ref"): extracting, preparing, building the jar"
  git -C "$root" archive "$ref" | tar -x -C "$dir"
  (cd "$dir" && "$root/bin/clojure" -T:build prep >/dev/null && "$root/bin/clojure" -T:build jar >/dev/null)
  deps=$(cd "$dir" && "$root/bin/clojure" -Spath | sed 's#^src:resources:target/prep:##')
  cp[$side-source]="$dir/src:$dir/resources:$dir/target/prep:$deps"
  cp[$side-jar]="$(ls "$dir"/target/vireo-*[0-9T].jar):$deps"
done

form="(let [mx (java.lang.management.ManagementFactory/getThreadMXBean) t (System/nanoTime) c (.getCurrentThreadCpuTime mx)]
        (require 'vireo.core)
        (println (long (/ (- (System/nanoTime) t) 1e6)) (long (/ (- (.getCurrentThreadCpuTime mx) c) 1e6))))"

declare -A req cpu wall
for form_kind in source jar; do
  for i in $(seq 1 "$runs"); do
    for side in old new; do
      load=$(cut -d' ' -f1 /proc/loadavg)
      s=$(date +%s%N)
      read -r r c < <(java -cp "${cp[$side-$form_kind]}" clojure.main -e "$form")
      w=$(( ($(date +%s%N) - s) / 1000000 ))
      req[$side-$form_kind]+="$r "; cpu[$side-$form_kind]+="$c "; wall[$side-$form_kind]+="$w "
      printf '%-6s %-3s run %d (load %s): require %5d ms wall, %5d ms thread CPU; JVM %5d ms to exit\n' \
        "$form_kind" "$side" "$i" "$load" "$r" "$c" "$w"
    done
  done
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "medians of $runs fresh JVMs (old = $old_ref, new = $new_ref):"
for form_kind in source jar; do
  for side in old new; do
    printf '%-6s %-3s require %5d ms wall, %5d ms thread CPU; JVM %5d ms to exit\n' "$form_kind" "$side" \
      "$(median <<<"${req[$side-$form_kind]}")" "$(median <<<"${cpu[$side-$form_kind]}")" "$(median <<<"${wall[$side-$form_kind]}")"
  done
done
