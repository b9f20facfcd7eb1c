# The dashboard's graphs, as data (main.tf adds the alarms' status above them and makes the
# dashboard). Like alarms.tf, nothing here reads a resource but local.region, so tests/terraform
# evaluates it with Terraform alone and checks every metric against what the functions emit.

locals {
  # [namespace, metric, dimension, value, options] rows of the functions' own metrics.
  leaderboard_metric = { for metric in ["Hits", "Misses", "StaleAnswers", "NotModified", "BusyAnswers", "BadRequests", "TableScans", "PlayerReads", "ReadUnits", "LeaseWaits", "LeaseTakeovers", "CacheErrors", "Latency", "BoardAge"] : metric => [var.metrics_namespace, metric, "service", var.function_names.leaderboard] }
  invalidate_metric  = { for metric in ["Invalidations", "InvalidationFailures", "IgnoredRecords"] : metric => [var.metrics_namespace, metric, "service", var.function_names.invalidate] }
  aggregate_metric   = { for metric in ["GamesFolded", "DuplicatesSkipped", "GamesGone", "RejectedRecords"] : metric => [var.metrics_namespace, metric, "service", var.function_names.aggregate] }
  checker_metric     = { for metric in ["Consistent", "NotYetRebuilt", "NotYetInvalidated", "Inconsistent", "SecondsToConsistent", "UncheckedChanges"] : metric => [var.metrics_namespace, metric, "service", var.function_names.checker] }

  # The alarms' status takes the top rows (main.tf); the graphs start below it.
  graphs_top = 4

  graph = {
    title   = ""
    region  = local.region
    view    = "timeSeries"
    stacked = false
    period  = 60
    stat    = "Sum"
    yAxis   = { left = { min = 0 } }
  }

  metric_widgets = concat(
    [
      {
        type = "metric", x = 0, y = local.graphs_top, width = 12, height = 6
        properties = merge(local.graph, {
          title   = "Answers by outcome (per minute)"
          stacked = true
          metrics = [
            concat(local.leaderboard_metric.Hits, [{ label = "HIT" }]),
            concat(local.leaderboard_metric.Misses, [{ label = "MISS" }]),
            concat(local.leaderboard_metric.StaleAnswers, [{ label = "STALE" }]),
            concat(local.leaderboard_metric.NotModified, [{ label = "304 not modified" }]),
            concat(local.leaderboard_metric.BusyAnswers, [{ label = "503 busy" }]),
            concat(local.leaderboard_metric.BadRequests, [{ label = "400/405" }]),
          ]
        })
      },
      {
        type = "metric", x = 12, y = local.graphs_top, width = 12, height = 6
        properties = merge(local.graph, {
          title = "Hit ratio and 503 share (%)"
          yAxis = { left = { min = 0, max = 100 } }
          metrics = [
            [{ id = "ratio", label = "hit ratio: HIT / (HIT + MISS + STALE)", expression = "100 * FILL(hits, 0) / (FILL(hits, 0) + FILL(misses, 0) + FILL(stale, 0))" }],
            [{ id = "share", label = "503 share of all answers", expression = "100 * FILL(busy, 0) / (FILL(hits, 0) + FILL(misses, 0) + FILL(stale, 0) + FILL(notmodified, 0) + FILL(busy, 0) + FILL(bad, 0))" }],
            concat(local.leaderboard_metric.Hits, [{ id = "hits", visible = false }]),
            concat(local.leaderboard_metric.Misses, [{ id = "misses", visible = false }]),
            concat(local.leaderboard_metric.StaleAnswers, [{ id = "stale", visible = false }]),
            concat(local.leaderboard_metric.NotModified, [{ id = "notmodified", visible = false }]),
            concat(local.leaderboard_metric.BusyAnswers, [{ id = "busy", visible = false }]),
            concat(local.leaderboard_metric.BadRequests, [{ id = "bad", visible = false }]),
          ]
        })
      },
      {
        type = "metric", x = 0, y = local.graphs_top + 6, width = 12, height = 6
        properties = merge(local.graph, {
          title = "Table reads (per minute): what the cache saves"
          metrics = [
            concat(local.leaderboard_metric.TableScans, [{ label = "full scans" }]),
            concat(local.leaderboard_metric.PlayerReads, [{ label = "players read to patch a board" }]),
            concat(local.leaderboard_metric.ReadUnits, [{ label = "read units the leaderboard consumed" }]),
            ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", var.stats_table_name, { label = "read units consumed (table)" }],
            ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", var.stats_table_name, { label = "throttled reads" }],
          ]
        })
      },
      {
        type = "metric", x = 12, y = local.graphs_top + 6, width = 12, height = 6
        properties = merge(local.graph, {
          title = "Freshness (seconds)"
          stat  = "Maximum"
          metrics = [
            concat(local.leaderboard_metric.BoardAge, [{ label = "age of the board served (max)" }]),
            concat(local.leaderboard_metric.BoardAge, [{ label = "age of the board served (median)", stat = "p50" }]),
            [{ id = "games", label = "games stream behind", expression = "behind_games / 1000" }],
            [{ id = "stats", label = "stats stream behind", expression = "behind_stats / 1000" }],
            ["AWS/Lambda", "IteratorAge", "FunctionName", var.function_names.aggregate, { id = "behind_games", visible = false }],
            ["AWS/Lambda", "IteratorAge", "FunctionName", var.function_names.invalidate, { id = "behind_stats", visible = false }],
          ]
        })
      },
      {
        type = "metric", x = 0, y = local.graphs_top + 12, width = 8, height = 6
        properties = merge(local.graph, {
          title = "Leaderboard latency (ms)"
          metrics = [
            concat(local.leaderboard_metric.Latency, [{ label = "median", stat = "p50" }]),
            concat(local.leaderboard_metric.Latency, [{ label = "p99", stat = "p99" }]),
          ]
        })
      },
      {
        type = "metric", x = 8, y = local.graphs_top + 12, width = 8, height = 6
        properties = merge(local.graph, {
          title = "Rebuild leases and cache errors (per minute)"
          metrics = [
            concat(local.leaderboard_metric.LeaseWaits, [{ label = "waited for another reader's rebuild" }]),
            concat(local.leaderboard_metric.LeaseTakeovers, [{ label = "took over an abandoned rebuild" }]),
            concat(local.leaderboard_metric.CacheErrors, [{ label = "cache calls failed or timed out" }]),
          ]
        })
      },
      {
        type = "metric", x = 16, y = local.graphs_top + 12, width = 8, height = 6
        properties = merge(local.graph, {
          title = "Invalidations (batches per minute)"
          metrics = [
            concat(local.invalidate_metric.Invalidations, [{ label = "invalidated" }]),
            concat(local.invalidate_metric.InvalidationFailures, [{ label = "failed, retried" }]),
            concat(local.invalidate_metric.IgnoredRecords, [{ label = "records that cannot show (ignored)" }]),
          ]
        })
      },
      {
        type = "metric", x = 0, y = local.graphs_top + 18, width = 12, height = 6
        properties = merge(local.graph, {
          title = "Games into stats (per minute)"
          metrics = [
            concat(local.aggregate_metric.GamesFolded, [{ label = "folded" }]),
            concat(local.aggregate_metric.DuplicatesSkipped, [{ label = "redelivered, skipped" }]),
            concat(local.aggregate_metric.GamesGone, [{ label = "deleted before folding" }]),
            concat(local.aggregate_metric.RejectedRecords, [{ label = "rejected (poison)" }]),
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.failure_queue_name, { label = "records in the failure queue", stat = "Maximum" }],
          ]
        })
      },
      {
        type = "metric", x = 12, y = local.graphs_top + 18, width = 12, height = 6
        properties = merge(local.graph, {
          title = "Function errors and throttles (per minute)"
          metrics = concat(
            [for role, function in local.deployed_functions : ["AWS/Lambda", "Errors", "FunctionName", function, { label = "${role} errors" }]],
            [for role, function in local.deployed_functions : ["AWS/Lambda", "Throttles", "FunctionName", function, { label = "${role} throttles" }]],
          )
        })
      },
    ],
    # The cache's nodes, when this stack made the cache.
    [
      for index, graph in [
        { title = "Cache CPU (%)", metric = "CPUUtilization", stat = "Average" },
        { title = "Cache evictions (per minute)", metric = "Evictions", stat = "Sum" },
        { title = "Cache connections", metric = "CurrConnections", stat = "Maximum" },
        ] : {
        type = "metric", x = index * 8, y = local.graphs_top + 24, width = 8, height = 6
        properties = merge(local.graph, {
          title   = graph.title
          stat    = graph.stat
          metrics = [for node in local.cache_nodes : ["AWS/ElastiCache", graph.metric, "CacheClusterId", var.cache_cluster_id, "CacheNodeId", node, { label = "node ${node}" }]]
        })
      } if var.cache_num_nodes > 0
    ],
    # The consistency checker's, when it is deployed: Polaris's "N nines within M seconds".
    [
      for widget in [
        {
          type = "metric", x = 0, y = local.graphs_top + 30, width = 12, height = 6
          properties = merge(local.graph, {
            title = "Consistency: nines of checked changes, and checks by class (per minute)"
            metrics = [
              # -log10 of the inconsistent share; with none, a lower bound: fewer than one of them.
              [{ id = "nines", label = "nines (at least, when none is inconsistent)", expression = "-LOG10(MAX([FILL(inconsistent, 0), 1]) / (FILL(consistent, 0) + FILL(notrebuilt, 0) + FILL(inconsistent, 0)))", yAxis = "right" }],
              concat(local.checker_metric.Consistent, [{ id = "consistent", label = "consistent" }]),
              concat(local.checker_metric.NotYetRebuilt, [{ id = "notrebuilt", label = "not yet rebuilt (nothing old servable)" }]),
              concat(local.checker_metric.NotYetInvalidated, [{ label = "not yet invalidated after the re-checks" }]),
              concat(local.checker_metric.Inconsistent, [{ id = "inconsistent", label = "INCONSISTENT" }]),
              concat(local.checker_metric.UncheckedChanges, [{ label = "not checked (cache unreachable)" }]),
            ]
          })
        },
        {
          type = "metric", x = 12, y = local.graphs_top + 30, width = 12, height = 6
          properties = merge(local.graph, {
            title = "Time from a change to a board that shows it (seconds)"
            metrics = [
              concat(local.checker_metric.SecondsToConsistent, [{ label = "median", stat = "p50" }]),
              concat(local.checker_metric.SecondsToConsistent, [{ label = "p99", stat = "p99" }]),
              concat(local.checker_metric.SecondsToConsistent, [{ label = "max", stat = "Maximum" }]),
            ]
          })
        },
      ] : widget if var.function_names.checker != null
    ],
  )
}
