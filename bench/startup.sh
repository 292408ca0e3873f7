#!/usr/bin/env bash
# Startup benchmark: time from JVM start to the first result, with two Vireo jars.
#
#   bench/startup.sh [--old REF] [--new REF] [--runs N] [--keep]
#
#   --old REF   the "before" jar's commit (default 5882de3: sources plus AOT classes
#               of the gen-class facade only, the last jar before the AOT jar)
#   --new REF   the "after" jar's commit (default HEAD)
#   --runs N    runs per case (default 10), after one warm-up run
#   --keep      keep the temporary directory (its path is printed)
#
# For each REF it extracts the tree (git archive) into a temporary directory and
# builds the jar there (bin/clojure -T:build jar), so the working tree, target/
# and ~/.m2 are left alone. The classpath is the jar plus what `bin/clojure
# -Spath -A:drivers` resolves for that tree (Vireo's dependencies and every
# driver). Then, with a plain `java` (no Maven, no bin/clojure: their own
# startup is not counted) and default JVM options (JAVA_OPTS adds some):
#
#   java-quickstart  examples/java-quickstart (javac'd against the jar) on a fresh
#                    SQLite file: create table, get-or-none, create, get, save, get
#   clojure-first    clojure.main on a script: (require 'vireo.core), a SQLite
#                    database, SELECT 1, close
#
# Each run is a new JVM measured to its exit, with hyperfine when installed
# (apt-get install hyperfine), else a loop with date +%s%N. Prints the median
# in milliseconds per case and jar, and the old/new ratio.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
old_ref=5882de3
new_ref=HEAD
runs=10
keep=false
while [[ $# -gt 0 ]]; do
  case $1 in
    --old) old_ref=$2; shift 2 ;;
    --new) new_ref=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    -h | --help) sed -n '2,/^set -e/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "startup.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vireo-startup.XXXXXX")
if $keep; then echo "startup.sh: working directory $tmp (kept)"; else trap 'rm -rf "$tmp"' EXIT; fi
java_opts=(${JAVA_OPTS:-})

say() { printf 'startup.sh: %s\n' "$*" >&2; }

# build NAME REF: the jar of REF in $tmp/NAME, its classpath in $tmp/NAME.cp
build() {
  local name=$1 ref=$2 dir="$tmp/$1"
  mkdir -p "$dir"
  git -C "$root" archive "$ref" | tar -x -C "$dir"
  # the seams build.clj sorted the driver deps with `key` on vectors, which throws
  # before the jar is written: the same one-line fix the AOT commit made
  sed -i 's/(sort-by (comp str key) (for \[\[lib/(sort-by (comp str first) (for [[lib/' "$dir/build.clj"
  # reuse the bootstrap cache of this checkout (the tools.deps classpath) when present
  if [[ -d $root/.cpcache/bootstrap ]]; then mkdir -p "$dir/.cpcache" && cp -r "$root/.cpcache/bootstrap" "$dir/.cpcache/"; fi
  say "building the $name jar ($ref = $(git -C "$root" rev-parse --short "$ref"))"
  (cd "$dir" && bin/clojure -T:build jar > "$tmp/$name-build.log" 2>&1) || { cat "$tmp/$name-build.log" >&2; exit 1; }
  local jar
  jar=$(ls "$dir"/target/vireo-*.jar | grep -v -- '-sources.jar$')
  local deps
  deps=$(cd "$dir" && bin/clojure -Spath -A:drivers | tr ':' '\n' | grep -vx -e src -e resources | paste -sd:)
  echo "$jar:$deps" > "$tmp/$name.cp"
  say "$name: $(unzip -l "$jar" | grep -c '__init\.class$') namespaces AOT-compiled, $(du -k "$jar" | cut -f1) KiB"
  # the Java quickstart, compiled against this jar
  mkdir -p "$dir/qs"
  javac --release 17 -proc:none -d "$dir/qs" -cp "$(cat "$tmp/$name.cp")" \
    "$dir"/examples/java-quickstart/src/main/java/quickstart/*.java
}

cat > "$tmp/first_query.clj" <<'EOF'
(require 'vireo.core)
(let [db (vireo.core/sqlite-database (str (System/getProperty "startup.dir") "/clojure.db"))]
  (try
    (when-not (= [{:one 1}] (:rows @(vireo.core/aio-execute-sql db "SELECT 1 AS one")))
      (throw (ex-info "unexpected result" {})))
    (finally @(vireo.core/aio-close db))))
(shutdown-agents)
EOF

build old "$old_ref"
build new "$new_ref"

# the command line of CASE with jar NAME (run in $tmp/run-NAME, a fresh db each run)
command_of() {
  local case=$1 name=$2 cp
  cp=$(cat "$tmp/$name.cp")
  case $case in
    java-quickstart) echo "java ${java_opts[*]} -cp $tmp/$name/qs:$cp quickstart.Quickstart" ;;
    clojure-first) echo "java ${java_opts[*]} -Dstartup.dir=$tmp/run-$name -cp $cp clojure.main $tmp/first_query.clj" ;;
  esac
}
prepare_of() { echo "rm -f $tmp/run-$1/vireo-quickstart.db* $tmp/run-$1/clojure.db*"; }

# measure CASE NAME: runs it (1 warm-up + $runs), prints "median-wall-ms cpu-ms"
# (cpu: user+sys, hyperfine's mean; "-" without hyperfine)
measure() {
  local case=$1 name=$2 cmd prep
  cmd=$(command_of "$case" "$name")
  prep=$(prepare_of "$name")
  mkdir -p "$tmp/run-$name"
  # one checked run: the command must succeed (and the quickstart print its New: line)
  local out
  out=$(cd "$tmp/run-$name" && eval "$prep" && eval "$cmd" 2>&1) || { echo "$out" >&2; say "$case with the $name jar failed"; exit 1; }
  if [[ $case == java-quickstart && $out != *"New: Peewee is SUPER awesome with async!"* ]]; then
    echo "$out" >&2; say "the quickstart printed no New: line"; exit 1
  fi
  if command -v hyperfine > /dev/null; then
    (cd "$tmp/run-$name" && hyperfine --style none --warmup 1 --runs "$runs" --prepare "$prep" \
        --export-csv "$tmp/$case-$name.csv" "$cmd" > "$tmp/$case-$name.hyperfine" 2>&1) \
      || { cat "$tmp/$case-$name.hyperfine" >&2; exit 1; }
    # command,mean,stddev,median,user,system,min,max (seconds)
    awk -F, 'NR == 2 { printf "%d %d\n", $4 * 1000 + 0.5, ($5 + $6) * 1000 + 0.5 }' "$tmp/$case-$name.csv"
  else
    local i t0 t1 times=()
    for ((i = 0; i <= runs; i++)); do
      (cd "$tmp/run-$name" && eval "$prep")
      t0=$(date +%s%N)
      (cd "$tmp/run-$name" && eval "$cmd" > /dev/null 2>&1)
      t1=$(date +%s%N)
      [[ $i -gt 0 ]] && times+=($(((t1 - t0) / 1000000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2], "-"; else printf "%d -\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 + 0.5 }'
  fi
}

tool=$(command -v hyperfine > /dev/null && echo "hyperfine, 1 warm-up" || echo "date +%s%N loop, 1 warm-up")
say "timing: $runs runs per case ($tool); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
ratio() { awk -v o="$1" -v n="$2" 'BEGIN { if (n + 0 > 0) printf "%.1fx", o / n; else print "-" }'; }
rows=()
for case in java-quickstart clojure-first; do
  read -r ow oc <<< "$(measure "$case" old)"
  read -r nw nc <<< "$(measure "$case" new)"
  rows+=("$(printf '%-16s %9s %9s %7s   %9s %9s %7s' "$case" "$ow" "$nw" "$(ratio "$ow" "$nw")" "$oc" "$nc" "$(ratio "$oc" "$nc")")")
done
printf '\n%-16s %27s   %27s\n' "" "wall time to exit, median ms" "CPU user+sys, mean ms"
printf '%-16s %9s %9s %7s   %9s %9s %7s\n' "case" "old jar" "new jar" "old/new" "old jar" "new jar" "old/new"
printf '%s\n' "${rows[@]}"
echo
echo "old = $old_ref ($(git -C "$root" rev-parse --short "$old_ref")), new = $new_ref ($(git -C "$root" rev-parse --short "$new_ref")); $(java -version 2>&1 | head -1); load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
