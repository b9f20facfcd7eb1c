variable "name" {
  description = "Prefix of the alarms' names and the dashboard's name (<name>-...)."
  type        = string

  validation {
    # Dashboard names allow letters, digits, '-' and '_' only.
    condition     = can(regex("^[A-Za-z0-9_-]{1,200}$", var.name))
    error_message = "name must be 1-200 letters, digits, '-' or '_'."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' own metrics (their POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
  default     = "Tatourney"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#: -]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 letters, digits or . _ / # : - and spaces, and must not start with AWS/."
  }
}

variable "function_names" {
  description = "The functions by role (modules/functions output function_names); each one's name is also the service dimension of its own metrics."
  type = object({
    leaderboard = string
    aggregate   = string
    invalidate  = string
    checker     = optional(string) # null: no consistency checker deployed
  })
}

variable "api_id" {
  description = "ID of the HTTP API (its ApiId dimension); null when the leaderboard is served by a function URL, whose 5xx are the function's Url5xxCount."
  type        = string
  default     = null
}

variable "api_stage_name" {
  description = "Stage of the HTTP API (its Stage dimension); unused with a function URL."
  type        = string
  default     = "$default"
}

variable "stats_table_name" {
  description = "The stats table (provisioned at a few read units): its read throttles are alarmed and its consumed read units graphed."
  type        = string
}

variable "failure_queue_name" {
  description = "SQS queue the stream mappings send the records they give up on (modules/functions output stream_failures_queue_name)."
  type        = string
}

variable "cache_cluster_id" {
  description = "ElastiCache cluster whose nodes are alarmed (evictions, CPU, connections). Null: the stack did not create its cache (a memcached of your own), which is not watched here."
  type        = string
  default     = null
}

variable "cache_num_nodes" {
  description = "Number of nodes of cache_cluster_id (0 without one); each node gets its own alarms."
  type        = number
  default     = 0

  validation {
    condition     = var.cache_num_nodes >= 0 && var.cache_num_nodes <= 40 && floor(var.cache_num_nodes) == var.cache_num_nodes
    error_message = "cache_num_nodes must be a whole number between 0 and 40."
  }

  validation {
    condition     = (var.cache_cluster_id == null) == (var.cache_num_nodes == 0)
    error_message = "cache_num_nodes must be 0 without cache_cluster_id and 1 or more with it."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic the alarms notify when they go into alarm and back to OK. Null: this module creates one, encrypted with a KMS key of its own (CloudWatch cannot publish to a topic encrypted with the AWS managed key)."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+(\\.fifo)?$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN."
  }
}

variable "alarm_emails" {
  description = "Email addresses to subscribe to the topic this module creates; each must confirm. Ignored with alarm_topic_arn."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for address in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "alarm_emails must be email addresses."
  }
}

# --- when an alarm fires ---------------------------------------------------------------------
# Every alarm looks at one-minute periods and fires when breaching_minutes_to_alarm of the last
# evaluation_minutes breach ("M out of N"), so one odd minute does not page anyone and a real
# problem still does within a few minutes. Each threshold is the value that must be EXCEEDED.
# nullable = false: the root module passes null for "keep the default".

variable "evaluation_minutes" {
  description = "How many recent one-minute periods every alarm looks at (N of 'M out of N')."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.evaluation_minutes >= 1 && var.evaluation_minutes <= 60 && floor(var.evaluation_minutes) == var.evaluation_minutes
    error_message = "evaluation_minutes must be a whole number between 1 and 60."
  }
}

variable "breaching_minutes_to_alarm" {
  description = "How many of those periods must breach for an alarm to fire (M of 'M out of N')."
  type        = number
  default     = 3
  nullable    = false

  validation {
    condition     = var.breaching_minutes_to_alarm >= 1 && var.breaching_minutes_to_alarm <= var.evaluation_minutes && floor(var.breaching_minutes_to_alarm) == var.breaching_minutes_to_alarm
    error_message = "breaching_minutes_to_alarm must be a whole number between 1 and evaluation_minutes."
  }
}

variable "iterator_age_threshold_seconds" {
  description = "Age of the newest record a stream mapping has handed to its function (IteratorAge, maximum), above which the games (aggregate) or the invalidations (invalidate) are behind."
  type        = number
  # Why 60: the mappings invoke as soon as records arrive (batching window 0), so a healthy age is
  # about a second; a batch being retried (bisected, up to 10 times) shows here minutes before its
  # records give up into the queue, and a board a minute behind is what players watching it
  # (it refreshes every 5 s) start to notice.
  default  = 60
  nullable = false

  validation {
    condition     = var.iterator_age_threshold_seconds >= 1 && var.iterator_age_threshold_seconds <= 86400
    error_message = "iterator_age_threshold_seconds must be between 1 and 86400 (the streams keep records 24 hours)."
  }
}

variable "failed_records_threshold" {
  description = "Messages in the stream failures queue (ApproximateNumberOfMessagesVisible, maximum) above which to alarm."
  type        = number
  # Why 0: every message is a game never counted (aggregate) or an invalidation given up
  # (invalidate); none is expected, and each stays until someone replays or deletes it.
  default  = 0
  nullable = false

  validation {
    condition     = var.failed_records_threshold >= 0 && floor(var.failed_records_threshold) == var.failed_records_threshold
    error_message = "failed_records_threshold must be a whole number, 0 or more."
  }
}

variable "stats_read_throttles_threshold" {
  description = "Throttled reads of the stats table per minute (ReadThrottleEvents, sum) above which to alarm."
  type        = number
  # Why 0: a throttled read is a scan the one-read-unit table refused, and players get STALE
  # answers or 503s for it. One burst after a flurry of games is the design at work (one lease
  # holder, the stale copy); throttles in 3 of 5 minutes mean the table cannot keep up.
  default  = 0
  nullable = false

  validation {
    condition     = var.stats_read_throttles_threshold >= 0
    error_message = "stats_read_throttles_threshold must be 0 or more."
  }
}

variable "api_server_errors_threshold" {
  description = "Server errors of the API per minute that the leaderboard did not answer on purpose (API Gateway 5xx minus the function's BusyAnswers) above which to alarm."
  type        = number
  # Why 0: the function answers 200, 304, 400, 405 or a deliberate 503 and nothing else, so every
  # other 5xx is API Gateway's own 500/502/504: the function crashed, timed out or was throttled.
  default  = 0
  nullable = false

  validation {
    condition     = var.api_server_errors_threshold >= 0
    error_message = "api_server_errors_threshold must be 0 or more."
  }
}

variable "busy_answers_threshold_percent" {
  description = "Share of the leaderboard's answers that are 503 (BusyAnswers over all answers, per minute), in percent, above which to alarm."
  type        = number
  # Why 5: a 503 means the table was throttled with no stale board to serve, which happens right
  # after a cold start or a lost cache and clears within seconds; more than one answer in twenty
  # for 3 of 5 minutes means players are being turned away.
  default  = 5
  nullable = false

  validation {
    condition     = var.busy_answers_threshold_percent >= 0 && var.busy_answers_threshold_percent < 100
    error_message = "busy_answers_threshold_percent must be between 0 and 100."
  }
}

variable "refused_share_threshold_percent" {
  description = "Share of the requests to GET /stats refused with a 4xx (API Gateway 4xx over Count, or the function URL's Url4xxCount over UrlRequestCount, per minute), in percent, above which to alarm."
  type        = number
  # Why 5: the site sends valid pages only, so its 4xx are throttling (429); a stray bad request
  # is noise, but one request in twenty refused for 3 of 5 minutes is visitors seeing errors.
  default  = 5
  nullable = false

  validation {
    condition     = var.refused_share_threshold_percent >= 0 && var.refused_share_threshold_percent < 100
    error_message = "refused_share_threshold_percent must be between 0 and 100."
  }
}

variable "function_errors_threshold" {
  description = "Failed invocations of a function per minute (Lambda Errors, sum) above which to alarm."
  type        = number
  # Why 0: the handlers never raise (the stream functions report failed records instead), so an
  # invocation error is a crash, a timeout or a bad configuration.
  default  = 0
  nullable = false

  validation {
    condition     = var.function_errors_threshold >= 0
    error_message = "function_errors_threshold must be 0 or more."
  }
}

variable "function_throttles_threshold" {
  description = "Throttled invocations of a function per minute (Lambda Throttles, sum) above which to alarm."
  type        = number
  # Why 0: the functions have no reserved concurrency, so a throttle means the account's whole
  # concurrency is in use; the API answers those requests with an error.
  default  = 0
  nullable = false

  validation {
    condition     = var.function_throttles_threshold >= 0
    error_message = "function_throttles_threshold must be 0 or more."
  }
}

variable "cache_evictions_threshold" {
  description = "Items a cache node evicts per minute (Evictions, sum) above which to alarm."
  type        = number
  # Why 0: the cache holds a handful of keys (the board, its generation, a lease and the stale
  # copy), far below a node's memory; an eviction means something else fills the node or the
  # board outgrew it, and an evicted board or generation is a table scan.
  default  = 0
  nullable = false

  validation {
    condition     = var.cache_evictions_threshold >= 0
    error_message = "cache_evictions_threshold must be 0 or more."
  }
}

variable "cache_cpu_threshold_percent" {
  description = "CPU use of a cache node (CPUUtilization, average), in percent, above which to alarm."
  type        = number
  # Why 90: memcached is multi-threaded, and AWS's guidance for ElastiCache Memcached is to scale
  # up or out past 90 % (ElastiCache user guide, "Which metrics should I monitor?").
  default  = 90
  nullable = false

  validation {
    condition     = var.cache_cpu_threshold_percent > 0 && var.cache_cpu_threshold_percent <= 100
    error_message = "cache_cpu_threshold_percent must be between 0 and 100."
  }
}

variable "cache_connections_threshold" {
  description = "Open connections to a cache node (CurrConnections, maximum) above which to alarm."
  type        = number
  # Why 500: each warm leaderboard or invalidate container holds one connection per node. At the
  # API's default throttle (50 requests/s, bursts of 100) and a few milliseconds a request, a few
  # dozen containers serve everything; five times the burst means containers pile up (a slow
  # cache) or connections leak. AWS publishes no recommended value for this metric.
  default  = 500
  nullable = false

  validation {
    condition     = var.cache_connections_threshold >= 1
    error_message = "cache_connections_threshold must be 1 or more."
  }
}

variable "tags" {
  description = "Tags for every resource this module creates."
  type        = map(string)
  default     = {}
}

# The consistency checker's alarm (functions/checker). Unlike the others it does not wait for
# "M out of N" minutes: an inconsistent answer is a protocol bug, and one is one too many.

variable "inconsistent_checks_threshold" {
  description = "Inconsistent checks (a board current after a change was invalidated that shows the player from before it) within inconsistency_period_minutes above which the inconsistent-answers alarm fires."
  type        = number
  # Why 0: the protocol guarantees none under every fault the fault matrix injects; a single one
  # means a reader could serve an old board as current, which is what the cache must never do.
  default  = 0
  nullable = false

  validation {
    condition     = var.inconsistent_checks_threshold >= 0 && floor(var.inconsistent_checks_threshold) == var.inconsistent_checks_threshold
    error_message = "inconsistent_checks_threshold must be a whole number, 0 or more."
  }
}

variable "inconsistency_period_minutes" {
  description = "The one period the inconsistent-answers alarm sums Inconsistent over; it stays in ALARM for at least this long after an inconsistency."
  type        = number
  # Why 5: the checker reports every batching window (30 s by default), so a period of a few of
  # them never falls between two reports; one inconsistency keeps the alarm in ALARM for 5
  # minutes, long enough to be seen on the dashboard, and a later one within them does not
  # notify again.
  default  = 5
  nullable = false

  validation {
    condition     = var.inconsistency_period_minutes >= 1 && var.inconsistency_period_minutes <= 1440 && floor(var.inconsistency_period_minutes) == var.inconsistency_period_minutes
    error_message = "inconsistency_period_minutes must be a whole number between 1 and 1440 (a day)."
  }
}
