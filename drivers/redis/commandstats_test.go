package redis

import (
	"context"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// commandStats reads INFO commandstats from c: for each command the server
// has run since its start or its last CONFIG RESETSTAT, its fields (calls,
// usec, usec_per_call, rejected_calls, failed_calls) by name. The tests and
// benchmarks that count commands or time them read it here.
func commandStats(ctx context.Context, c goredis.UniversalClient) (map[string]map[string]float64, error) {
	info, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	stats := map[string]map[string]float64{}
	for line := range strings.Lines(info) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		command, isCmd := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isCmd {
			continue
		}
		fields := map[string]float64{}
		for f := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(f, "=")
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				fields[k] = n
			}
		}
		stats[command] = fields
	}
	return stats, nil
}
