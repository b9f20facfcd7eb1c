variable "name" {
  description = "Prefix of every name this module creates: <name>-leaderboard, <name>-aggregate, <name>-invalidate, <name>-api, ..."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9-_]{1,40}$", var.name))
    error_message = "name must be 1-40 letters, digits, '-' or '_' (it prefixes function and role names)."
  }
}

variable "dist_dir" {
  description = "Folder holding build.py's output: <function>.zip and manifest.json (make package)."
  type        = string
}

variable "architecture" {
  description = "Instruction set of the functions; must match the one dist/ was built for (make package LAMBDA_ARCH=...)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "powertools_layer_arn" {
  description = "ARN of the Powertools for AWS Lambda (Python) v3 layer. Null uses AWS's public layer for python3.12 and the architecture at powertools_layer_version, where AWS publishes one (every commercial region, cn-north-1, both GovCloud regions); required elsewhere."
  type        = string
  default     = null

  validation {
    condition     = var.powertools_layer_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9-_]+:[0-9]+$", var.powertools_layer_arn))
    error_message = "powertools_layer_arn must be a Lambda layer version ARN."
  }
}

variable "powertools_layer_version" {
  description = "Version of AWS's public AWSLambdaPowertoolsPythonV3-python312-<arch> layer (used when powertools_layer_arn is null)."
  type        = number
  default     = 27

  validation {
    condition     = var.powertools_layer_version >= 1 && floor(var.powertools_layer_version) == var.powertools_layer_version
    error_message = "powertools_layer_version must be a positive whole number."
  }
}

variable "games_table" {
  description = "The games table: name, ARN and stream ARN (modules/table outputs)."
  type = object({
    name       = string
    arn        = string
    stream_arn = string
  })
}

variable "stats_table" {
  description = "The stats table: name, ARN and stream ARN (modules/table outputs)."
  type = object({
    name       = string
    arn        = string
    stream_arn = string
  })
}

variable "table_kms_key_arn" {
  description = "Customer managed KMS key of the tables, if any: the functions are allowed to decrypt with it."
  type        = string
  default     = null
}

variable "cache_endpoints" {
  description = "host:port of every Memcached node (modules/cache output node_endpoints)."
  type        = list(string)

  validation {
    condition     = length(var.cache_endpoints) >= 1 && alltrue([for endpoint in var.cache_endpoints : can(regex("^[^:,\\s]+:[0-9]{1,5}$", endpoint))])
    error_message = "cache_endpoints needs at least one host:port."
  }
}

variable "cache_tls" {
  description = "Connect to the cache with TLS (the cache's in-transit encryption is on)."
  type        = bool
  default     = false
}

variable "cache_item_limit_bytes" {
  description = "The cache's item size limit; a leaderboard larger than this (after compression) is served without being cached."
  type        = number
  default     = 1048576

  validation {
    condition     = var.cache_item_limit_bytes >= 1024 && var.cache_item_limit_bytes <= 134217728
    error_message = "cache_item_limit_bytes must be between 1024 and 134217728."
  }
}

variable "cache_key_prefix" {
  description = "Prefix of the cache keys, so several stacks can share one cache. Null uses name. The functions append a hash of the stats table's stream ARN, so a re-created table starts with an empty cache."
  type        = string
  default     = null

  validation {
    condition     = var.cache_key_prefix == null || can(regex("^[!-~]{1,100}$", var.cache_key_prefix))
    error_message = "cache_key_prefix must be 1-100 printable ASCII characters without spaces."
  }
}

variable "cache_timeout_ms" {
  description = "Connect and read timeout of each cache call; past it the request goes to the table."
  type        = number
  default     = 250

  validation {
    condition     = var.cache_timeout_ms >= 10 && var.cache_timeout_ms <= 10000
    error_message = "cache_timeout_ms must be between 10 and 10000."
  }
}

variable "cache_ttl_seconds" {
  description = "A board older than this is rebuilt at its next read even without a change, so that the sweep (the backstop should an invalidation be lost) goes on when nothing happens."
  type        = number
  default     = 300

  validation {
    condition     = var.cache_ttl_seconds >= 1 && var.cache_ttl_seconds <= 2592000
    error_message = "cache_ttl_seconds must be between 1 and 2592000 (30 days)."
  }
}

variable "stale_ttl_seconds" {
  description = "Lifetime of the cached board in memcached: the base the next rebuild patches, and the last board served (X-Cache: STALE) while the table is throttled."
  type        = number
  default     = 86400

  validation {
    condition     = var.stale_ttl_seconds >= 1 && var.stale_ttl_seconds <= 2592000
    error_message = "stale_ttl_seconds must be between 1 and 2592000 (30 days)."
  }
}

variable "lease_wait_ms" {
  description = "How long a reader that lost the rebuild lease waits for the winner's leaderboard before answering 503 with Retry-After; it never reads the table beside a live lease holder."
  type        = number
  default     = 1500

  validation {
    # The leaderboard function times out after 10 s: a reader must still have time to answer.
    condition     = var.lease_wait_ms >= 0 && var.lease_wait_ms <= 8000
    error_message = "lease_wait_ms must be between 0 and 8000 (the leaderboard function times out after 10 s)."
  }
}

variable "lease_ttl_seconds" {
  description = "Lifetime of the rebuild lease, 2 to 60 s: longer than a rebuild takes (or a second reader takes it over and scans too), so a reader that dies holding it delays the next rebuild by at most this. memcached expires items on a whole-second clock, so a lease of N s lasts between N - 1 and N."
  type        = number
  default     = 5

  validation {
    # memcached expires items on its own whole-second clock: a lease of N seconds lasts between
    # N - 1 and N, so one of 1 second could be gone at once.
    condition     = var.lease_ttl_seconds >= 2 && var.lease_ttl_seconds <= 60
    error_message = "lease_ttl_seconds must be between 2 and 60."
  }
}

variable "retry_after_seconds" {
  description = "Retry-After of a 503 answer (table throttled and no stale copy)."
  type        = number
  default     = 5

  validation {
    condition     = var.retry_after_seconds >= 1 && var.retry_after_seconds <= 3600
    error_message = "retry_after_seconds must be between 1 and 3600."
  }
}

variable "table_max_attempts" {
  description = "Attempts per DynamoDB call, first try included (the SDK's standard retry mode)."
  type        = number
  default     = 3

  validation {
    condition     = var.table_max_attempts >= 1 && var.table_max_attempts <= 10
    error_message = "table_max_attempts must be between 1 and 10."
  }
}

variable "subnet_ids" {
  description = "Subnets for the functions that talk to the cache (leaderboard, invalidate). Empty: they run outside any VPC (e.g. LocalStack)."
  type        = list(string)
  default     = []
}

variable "vpc_id" {
  description = "VPC of subnet_ids: the only VPC in which the functions' roles may manage network interfaces."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_id != null || length(var.subnet_ids) == 0
    error_message = "vpc_id is required with subnet_ids: the network interface grants are limited to it."
  }
}

variable "security_group_ids" {
  description = "Security groups of the functions that talk to the cache (with subnet_ids)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.security_group_ids) > 0 || length(var.subnet_ids) == 0
    error_message = "security_group_ids is required with subnet_ids."
  }
}

variable "memory_mb" {
  description = "Memory of each function, in MB (CPU scales with it)."
  type = object({
    leaderboard = optional(number, 256)
    aggregate   = optional(number, 256)
    invalidate  = optional(number, 128)
    checker     = optional(number, 128)
  })
  default = {}

  validation {
    condition     = alltrue([for mb in values(var.memory_mb) : mb >= 128 && mb <= 10240])
    error_message = "memory_mb values must be between 128 and 10240."
  }
}

variable "log_retention_days" {
  description = "Retention of the functions' and the API's log groups."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "log_level" {
  description = "Log level of the functions (POWERTOOLS_LOG_LEVEL)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "tracing_enabled" {
  description = "Trace the functions with AWS X-Ray (Lambda's Active tracing, Powertools' Tracer, the X-Ray grants); off: no traces of their own and no X-Ray permissions."
  type        = bool
  default     = false
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' own metrics (POWERTOOLS_METRICS_NAMESPACE); each metric's one dimension is service = the function's name."
  type        = string
  default     = "Tatourney"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#: -]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 letters, digits or . _ / # : - and spaces, and must not start with AWS/ (CloudWatch's rule)."
  }
}

variable "stream_batch_size" {
  description = "Most stream records per invocation of aggregate and invalidate."
  type        = number
  default     = 100

  validation {
    condition     = var.stream_batch_size >= 1 && var.stream_batch_size <= 10000
    error_message = "stream_batch_size must be between 1 and 10000."
  }
}

variable "stream_batching_window_seconds" {
  description = "How long the event source mappings gather records before invoking. 0 keeps the leaderboard fresh; a few seconds cut invocations under a steady flow of games."
  type        = number
  default     = 0

  validation {
    condition     = var.stream_batching_window_seconds >= 0 && var.stream_batching_window_seconds <= 300
    error_message = "stream_batching_window_seconds must be between 0 and 300."
  }
}

variable "stream_maximum_retry_attempts" {
  description = "Retries of a failing batch of games (bisected on each error) before its records go to the failure queue; invalidations are retried until invalidate_maximum_record_age_seconds."
  type        = number
  default     = 10

  validation {
    condition     = var.stream_maximum_retry_attempts >= 0 && var.stream_maximum_retry_attempts <= 10000
    error_message = "stream_maximum_retry_attempts must be between 0 and 10000."
  }
}

variable "aggregate_maximum_record_age_seconds" {
  description = "Age past which a game record goes to the failure queue instead of being retried (the stream keeps records 24 hours)."
  type        = number
  default     = 86400

  validation {
    condition     = var.aggregate_maximum_record_age_seconds >= 60 && var.aggregate_maximum_record_age_seconds <= 604800
    error_message = "aggregate_maximum_record_age_seconds must be between 60 and 604800."
  }
}

variable "invalidate_maximum_record_age_seconds" {
  description = "Age past which a stats record whose invalidation keeps failing (memcached unreachable that long) goes to the failure queue; the change then reaches the board through the sweep."
  type        = number
  default     = 3600

  validation {
    condition     = var.invalidate_maximum_record_age_seconds >= 60 && var.invalidate_maximum_record_age_seconds <= 604800
    error_message = "invalidate_maximum_record_age_seconds must be between 60 and 604800."
  }
}

variable "checker_enabled" {
  description = "Deploy the consistency checker: a fourth function on the stats stream that reports, from memcached alone, whether each change reached the cached board (metrics Consistent, NotYetRebuilt, NotYetInvalidated, Inconsistent, SecondsToConsistent)."
  type        = bool
  default     = true
}

variable "checker_batching_window_seconds" {
  description = "How long the checker's mapping gathers stats changes before invoking it. Tens of seconds: the invalidations are processed by then, and one invocation checks all the changes of the window with one cache round trip."
  type        = number
  # Why 30: invalidate's mapping invokes as records arrive (about a second behind), so 30 s lets
  # nearly every change be invalidated before it is checked, and bounds the checker to about
  # 2 invocations a minute per shard (86,400 a month at most) however many games are played.
  default = 30

  validation {
    condition     = var.checker_batching_window_seconds >= 1 && var.checker_batching_window_seconds <= 300
    error_message = "checker_batching_window_seconds must be between 1 and 300 (the mapping's limit)."
  }
}

variable "checker_recheck_seconds" {
  description = "How long the checker re-checks, within one invocation, a change whose invalidation has not been processed yet (one cache round trip a second); after it the change is counted NotYetInvalidated."
  type        = number
  default     = 10

  validation {
    condition     = var.checker_recheck_seconds >= 0 && var.checker_recheck_seconds <= 600 && floor(var.checker_recheck_seconds) == var.checker_recheck_seconds
    error_message = "checker_recheck_seconds must be a whole number between 0 and 600."
  }
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser: the site's origin."
  type        = list(string)

  validation {
    condition     = alltrue([for origin in var.cors_allow_origins : can(regex("^https?://[^/]+$", origin))])
    error_message = "cors_allow_origins must be origins such as https://example.com (scheme and host, no path)."
  }
}

variable "leaderboard_endpoint" {
  description = "What serves GET /stats: http_api (API Gateway HTTP API with stage throttling and access logs) or function_url (a Lambda function URL, for LocalStack's community edition, which has no HTTP APIs)."
  type        = string
  default     = "http_api"

  validation {
    condition     = contains(["http_api", "function_url"], var.leaderboard_endpoint)
    error_message = "leaderboard_endpoint must be http_api or function_url."
  }
}

variable "leaderboard_reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the leaderboard function; null: unreserved. Required with leaderboard_endpoint = function_url outside LocalStack."
  type        = number
  default     = null

  validation {
    condition     = var.leaderboard_reserved_concurrency == null || try(var.leaderboard_reserved_concurrency >= 1 && floor(var.leaderboard_reserved_concurrency) == var.leaderboard_reserved_concurrency, false)
    error_message = "leaderboard_reserved_concurrency must be a whole number, 1 or more (null: unreserved)."
  }

  validation {
    condition     = var.leaderboard_endpoint != "function_url" || var.leaderboard_reserved_concurrency != null || var.on_localstack
    error_message = "leaderboard_endpoint = function_url needs leaderboard_reserved_concurrency: a function URL is public and has no throttle of its own, so without a cap a flood of requests scales the leaderboard up to the account's concurrency limit, starving aggregate and invalidate (the board goes stale) and every other function in the account."
  }
}

variable "on_localstack" {
  description = "The provider points at LocalStack (examples/localstack): the only place the function URL may run without leaderboard_reserved_concurrency. Never true on AWS."
  type        = bool
  default     = false
}

variable "api_throttling_rate_limit" {
  description = "Steady-state requests per second the API's stage accepts; past it, callers get 429 before any function runs."
  type        = number
  default     = 50

  validation {
    condition     = var.api_throttling_rate_limit > 0
    error_message = "api_throttling_rate_limit must be positive."
  }
}

variable "api_throttling_burst_limit" {
  description = "Burst of requests the API's stage accepts above the rate limit."
  type        = number
  default     = 100

  validation {
    condition     = var.api_throttling_burst_limit >= 0 && floor(var.api_throttling_burst_limit) == var.api_throttling_burst_limit
    error_message = "api_throttling_burst_limit must be a whole number, 0 or more."
  }
}

variable "iam_role_path" {
  description = "Path of the functions' IAM roles (e.g. /tatourney/), for organisations that scope IAM by path."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([\\x21-\\x7E]{0,510}/)?$", var.iam_role_path))
    error_message = "iam_role_path must start and end with / (\"/\" alone is the default path)."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of a managed policy set as the permissions boundary of the functions' roles (null: none), for accounts that require one."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM managed policy ARN (arn:aws:iam::123456789012:policy/name)."
  }
}

variable "tags" {
  description = "Tags for every resource this module creates."
  type        = map(string)
  default     = {}
}
