# table.awk - one bench table from the loadgen result lines.
#
#   awk -v dir=OUT -v scen=NAME -v title=TITLE -v targets="direct floor ..." \
#       -v cols="key|label|h|%.0f;key|label|l|%.1f;..." -f bench/table.awk
#
# Each OUT/NAME.TARGET.txt holds loadgen's key=value line.  A column's third
# field says which way is better (h: higher, l: lower, -: no ratio).  Under
# the values comes a ratio table: each figure divided by the better of nginx
# and HAProxy for that figure, and by the floor relay's where it ran.
function fmtv(f, v) { return v == "" ? "-" : sprintf(f, v) }
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
BEGIN {
	nt = split(targets, T, " ")
	nc = split(cols, CL, ";")
	for (i = 1; i <= nc; i++) {
		split(CL[i], f, "|")
		key[i] = f[1]; lab[i] = f[2]; better[i] = f[3]; fmt[i] = f[4]
	}
	for (t = 1; t <= nt; t++) {
		file = dir "/" scen "." T[t] ".txt"
		line = ""
		while ((getline l < file) > 0)
			if (l ~ /^mode=/)
				line = l
		close(file)
		ok[T[t]] = line != ""
		n = split(line, kv, " ")
		for (j = 1; j <= n; j++) {
			p = index(kv[j], "=")
			V[T[t], substr(kv[j], 1, p - 1)] = substr(kv[j], p + 1)
		}
		if (ok[T[t]] && V[T[t], "missed"] != "")
			V[T[t], "errors"] += V[T[t], "missed"]
	}
	print ""
	print "== " title " =="
	printf "%-9s", "target"
	for (i = 1; i <= nc; i++)
		printf " %11s", lab[i]
	print ""
	for (t = 1; t <= nt; t++) {
		printf "%-9s", T[t]
		if (!ok[T[t]]) {
			print "  (no result: see " dir "/" scen "." T[t] ".err)"
			continue
		}
		for (i = 1; i <= nc; i++)
			printf " %11s", fmtv(fmt[i], V[T[t], key[i]])
		print ""
	}
	nr = 0
	for (i = 1; i <= nc; i++)
		if (better[i] != "-")
			nr++
	if (!nr)
		exit
	# the floor's ratio only where the floor ran (the tls-* runs have none)
	print "ratios: value / better of nginx,haproxy" (ok["floor"] ? " | value / floor" : "")
	printf "%-9s", "target"
	for (i = 1; i <= nc; i++)
		if (better[i] != "-")
			printf " %11s", lab[i]
	print ""
	for (t = 1; t <= nt; t++) {
		if (T[t] == "direct" || !ok[T[t]])
			continue
		printf "%-9s", T[t]
		for (i = 1; i <= nc; i++) {
			if (better[i] == "-")
				continue
			k = key[i]
			a = V["nginx", k]; b = V["haproxy", k]
			if (!ok["nginx"]) a = ""
			if (!ok["haproxy"]) b = ""
			if (a == "") best = b
			else if (b == "") best = a
			else if (better[i] == "h") best = (a + 0 > b + 0) ? a : b
			else best = (a + 0 < b + 0) ? a : b
			fl = ok["floor"] ? V["floor", k] : ""
			printf " %11s", ratio(V[T[t], k], best) (ok["floor"] ? "|" ratio(V[T[t], k], fl) : "")
		}
		print ""
	}
	if (!ok["wsobs"] || !ok["wsproxy"])
		exit
	printf "%-9s", "wsobs/wsproxy"
	for (i = 1; i <= nc; i++)
		if (better[i] != "-")
			printf " %11s", ratio(V["wsobs", key[i]], V["wsproxy", key[i]])
	print ""
}
