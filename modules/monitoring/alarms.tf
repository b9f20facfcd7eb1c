# The alarms, as data: what each watches and when it fires. main.tf makes one CloudWatch alarm of
# each entry, the dashboard shows their state, and the README's runbook has a section per alarm
# (its anchor is in the description). Nothing here reads a resource, so tests/terraform evaluates
# this file with Terraform alone and checks every metric against what the functions emit.

locals {
  # Where players' 5xx are counted: the HTTP API, or the leaderboard's function URL.
  front_door_5xx = var.api_id != null ? {
    namespace = "AWS/ApiGateway", name = "5xx", stat = "Sum", dimensions = tomap({ ApiId = var.api_id, Stage = var.api_stage_name })
    } : {
    namespace = "AWS/Lambda", name = "Url5xxCount", stat = "Sum", dimensions = tomap({ FunctionName = var.function_names.leaderboard })
  }

  # Every request at the front door, and those refused with a 4xx (the stage throttle's or the
  # reserved concurrency's 429s, and the handler's 400s).
  front_door_requests = var.api_id != null ? {
    namespace = "AWS/ApiGateway", name = "Count", stat = "Sum", dimensions = tomap({ ApiId = var.api_id, Stage = var.api_stage_name })
    } : {
    namespace = "AWS/Lambda", name = "UrlRequestCount", stat = "Sum", dimensions = tomap({ FunctionName = var.function_names.leaderboard })
  }
  front_door_4xx = var.api_id != null ? {
    namespace = "AWS/ApiGateway", name = "4xx", stat = "Sum", dimensions = tomap({ ApiId = var.api_id, Stage = var.api_stage_name })
    } : {
    namespace = "AWS/Lambda", name = "Url4xxCount", stat = "Sum", dimensions = tomap({ FunctionName = var.function_names.leaderboard })
  }

  # The functions' own metrics (Powertools, embedded metric format): one dimension, the service.
  own_metric = {
    for metric, stat in {
      Hits = "Sum", Misses = "Sum", StaleAnswers = "Sum", NotModified = "Sum", BusyAnswers = "Sum", BadRequests = "Sum"
    } : metric => { namespace = var.metrics_namespace, name = metric, stat = stat, dimensions = tomap({ service = var.function_names.leaderboard }) }
  }

  stream_functions = {
    aggregate  = { name = var.function_names.aggregate, behind = "new games are not reaching the stats table: the board stops changing" }
    invalidate = { name = var.function_names.invalidate, behind = "changes to the stats table are not invalidating the cache: the board shows old results until CACHE_TTL_SECONDS expires it" }
  }

  # The functions deployed (the consistency checker is optional).
  deployed_functions = { for role, name in var.function_names : role => name if name != null }

  cache_nodes = [for index in range(var.cache_num_nodes) : format("%04d", index + 1)]

  # The same alarms on each function, and on each cache node.
  function_alarms = {
    errors    = { metric = "Errors", threshold = var.function_errors_threshold, description = "fails invocations (crash, timeout or bad configuration)" }
    throttles = { metric = "Throttles", threshold = var.function_throttles_threshold, description = "is throttled: the account's concurrency is used up" }
  }
  cache_node_alarms = {
    evictions   = { metric = "Evictions", stat = "Sum", threshold = var.cache_evictions_threshold, description = "evicts items: its memory is full, and an evicted board is a table scan" }
    cpu         = { metric = "CPUUtilization", stat = "Average", threshold = var.cache_cpu_threshold_percent, description = "uses more than ${var.cache_cpu_threshold_percent} % CPU: cache calls slow down and time out into table reads" }
    connections = { metric = "CurrConnections", stat = "Maximum", threshold = var.cache_connections_threshold, description = "has more than ${var.cache_connections_threshold} connections: function containers pile up or leak connections" }
  }

  alarms = merge(
    {
      for role, function in local.stream_functions : "${role}-iterator-age" => {
        description = "The ${role} stream mapping is more than ${var.iterator_age_threshold_seconds} s behind: ${function.behind}."
        anchor      = "${role}-iterator-age"
        threshold   = var.iterator_age_threshold_seconds * 1000
        expression  = null
        metrics = {
          m = { namespace = "AWS/Lambda", name = "IteratorAge", stat = "Maximum", dimensions = tomap({ FunctionName = function.name }) }
        }
      }
    },
    {
      "failed-stream-records" = {
        description = "Stream records given up on wait in the failure queue: games not counted or invalidations lost."
        anchor      = "failed-stream-records"
        threshold   = var.failed_records_threshold
        expression  = null
        metrics = {
          m = { namespace = "AWS/SQS", name = "ApproximateNumberOfMessagesVisible", stat = "Maximum", dimensions = tomap({ QueueName = var.failure_queue_name }) }
        }
      }
      "stats-read-throttles" = {
        description = "The stats table refuses reads: players get STALE answers or 503s."
        anchor      = "stats-read-throttles"
        threshold   = var.stats_read_throttles_threshold
        expression  = null
        metrics = {
          m = { namespace = "AWS/DynamoDB", name = "ReadThrottleEvents", stat = "Sum", dimensions = tomap({ TableName = var.stats_table_name }) }
        }
      }
      "api-server-errors" = {
        description = "The API answers 5xx errors the leaderboard did not choose: players see an error instead of the board."
        anchor      = "api-server-errors"
        threshold   = var.api_server_errors_threshold
        # The function's deliberate 503s are 5xx to API Gateway too: count only the others.
        expression = "FILL(errors, 0) - FILL(busy, 0)"
        metrics = {
          errors = local.front_door_5xx
          busy   = local.own_metric.BusyAnswers
        }
      }
      "busy-answers" = {
        description = "More than ${var.busy_answers_threshold_percent} % of the leaderboard's answers are 503 (table busy, nothing cached): players are turned away."
        anchor      = "busy-answers"
        threshold   = var.busy_answers_threshold_percent
        expression  = "100 * FILL(busy, 0) / (FILL(hits, 0) + FILL(misses, 0) + FILL(stale, 0) + FILL(notmodified, 0) + FILL(busy, 0) + FILL(bad, 0))"
        metrics = {
          busy        = local.own_metric.BusyAnswers
          hits        = local.own_metric.Hits
          misses      = local.own_metric.Misses
          stale       = local.own_metric.StaleAnswers
          notmodified = local.own_metric.NotModified
          bad         = local.own_metric.BadRequests
        }
      }
    },
    {
      # The front door turning callers away: one client or plain popularity past the API's shared
      # throttle gets everyone 429 before any function runs, which the 5xx alarms never see.
      "refused-requests" = {
        description = "More than ${var.refused_share_threshold_percent} % of the requests to GET /stats are refused with a 4xx (mostly 429: the API's throttle or the function's concurrency cap): players see the error banner."
        anchor      = "refused-requests"
        threshold   = var.refused_share_threshold_percent
        expression  = "IF(FILL(requests, 0) > 0, 100 * FILL(refused, 0) / FILL(requests, 0), 0)"
        metrics = {
          refused  = local.front_door_4xx
          requests = local.front_door_requests
        }
      }
    },
    {
      for pair in setproduct(keys(local.deployed_functions), keys(local.function_alarms)) : "${pair[0]}-${pair[1]}" => {
        description = "The ${pair[0]} function ${local.function_alarms[pair[1]].description}."
        anchor      = "function-${pair[1]}"
        threshold   = local.function_alarms[pair[1]].threshold
        expression  = null
        metrics = {
          m = { namespace = "AWS/Lambda", name = local.function_alarms[pair[1]].metric, stat = "Sum", dimensions = tomap({ FunctionName = local.deployed_functions[pair[0]] }) }
        }
      }
    },
    {
      # One evaluation of one period, not "M out of N" minutes: see inconsistency_period_minutes.
      for role, function in { checker = var.function_names.checker } : "inconsistent-answers" => {
        description                   = "The consistency checker saw more than ${var.inconsistent_checks_threshold} inconsistent answers in ${var.inconsistency_period_minutes} min: a board current after a change was invalidated showed the player from before it."
        anchor                        = "inconsistent-answers"
        threshold                     = var.inconsistent_checks_threshold
        expression                    = null
        evaluation                    = { periods = 1, to_alarm = 1, period_seconds = var.inconsistency_period_minutes * 60 }
        metrics = {
          m = { namespace = var.metrics_namespace, name = "Inconsistent", stat = "Sum", dimensions = tomap({ service = function }) }
        }
      } if function != null
    },
    {
      for pair in setproduct(local.cache_nodes, keys(local.cache_node_alarms)) : "cache-${pair[0]}-${pair[1]}" => {
        description = "Cache node ${pair[0]} ${local.cache_node_alarms[pair[1]].description}."
        anchor      = "cache-node-${pair[1]}"
        threshold   = local.cache_node_alarms[pair[1]].threshold
        expression  = null
        metrics = {
          m = { namespace = "AWS/ElastiCache", name = local.cache_node_alarms[pair[1]].metric, stat = local.cache_node_alarms[pair[1]].stat, dimensions = tomap({ CacheClusterId = var.cache_cluster_id, CacheNodeId = pair[0] }) }
        }
      }
    },
  )
}
