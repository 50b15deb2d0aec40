# Reads dotnet test console output; prints one line per failed test: its name, then " -- " and the first
# three lines of its error message joined (CI keeps only the end of a run's output, so the reason has to
# travel with the name).
/^ +Failed [^ ].* \[[^]]*\]$/ {
  flush()
  name = $0
  sub(/^ +Failed /, "", name)
  sub(/ \[[^]]*\]$/, "", name)
  reading = 0
  next
}
name != "" && /^ +Error Message:/ { reading = 1; next }
name != "" && /^ +Stack Trace:/ { reading = 0; next }
reading && taken < 3 {
  line = $0
  gsub(/^ +| +$/, "", line)
  if (line != "") { why = why (why == "" ? "" : " / ") substr(line, 1, 240); taken++ }
}
END { flush() }
function flush() {
  if (name != "") print name (why == "" ? "" : " -- " why)
  name = ""; why = ""; taken = 0; reading = 0
}
