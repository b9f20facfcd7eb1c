variable "name" {
  description = "Prefix of every name in the stack (tables, functions, cache, bucket)."
  type        = string
  default     = "tatourney"

  validation {
    # The strictest of the modules' rules (ElastiCache cluster IDs: no "--", no trailing "-"), so a
    # bad name fails here, naming this variable, and not later inside a module.
    condition     = can(regex("^[a-z][a-z0-9-]{0,22}[a-z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "name must be 2-24 lowercase letters, digits or single hyphens, starting with a letter and ending with a letter or digit (it prefixes names with tight limits, such as ElastiCache cluster IDs)."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

# --- network ---------------------------------------------------------------------------------

variable "create_network" {
  description = "Put the cache and the functions that use it in a VPC (modules/network). False only with an external cache reachable without one, as on LocalStack."
  type        = bool
  default     = true

  validation {
    condition     = var.create_network || !var.create_cache
    error_message = "create_cache = true needs create_network = true: the cache lives in the VPC."
  }
}

variable "create_vpc" {
  description = "Create a VPC with two private subnets; false uses vpc_id, subnet_ids and route_table_ids."
  type        = bool
  default     = true
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC created when create_vpc = true."
  type        = string
  default     = "10.42.0.0/16"
}

variable "availability_zones" {
  description = "The two zones of the private subnets (create_vpc = true). Empty: the first two available zones, by name, that offer cache_node_type's EC2 instance type."
  type        = list(string)
  default     = []
}

variable "vpc_id" {
  description = "Existing VPC, when create_vpc = false."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Existing private subnets in two or more AZs, when create_vpc = false."
  type        = list(string)
  default     = []
}

variable "route_table_ids" {
  description = "Route tables of the existing subnets, for the DynamoDB gateway endpoint."
  type        = list(string)
  default     = []
}

variable "create_dynamodb_endpoint" {
  description = "Create the DynamoDB gateway endpoint. Null: only in the VPC the stack creates. In a VPC you bring, true puts it on route_table_ids with a policy that admits only the leaderboard's reads of the stats table, so every other workload on those route tables loses DynamoDB: only for route tables the stack has to itself."
  type        = bool
  default     = null
}

# --- tables ----------------------------------------------------------------------------------

variable "stats_read_capacity" {
  description = "Provisioned read units of the stats table; 1 is the constraint the cache exists for."
  type        = number
  default     = 1
}

variable "stats_write_capacity" {
  description = "Provisioned write units of the stats table."
  type        = number
  default     = 5
}

variable "table_kms_key_arn" {
  description = "Customer managed KMS key for the tables; null uses the AWS managed key."
  type        = string
  default     = null
}

variable "point_in_time_recovery" {
  description = "Continuous backups of both tables."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse to delete the tables; set false before terraform destroy."
  type        = bool
  default     = true
}

# --- cache -----------------------------------------------------------------------------------

variable "create_cache" {
  description = "Create the ElastiCache Memcached cluster; false uses cache_endpoints (a memcached you run, e.g. with LocalStack)."
  type        = bool
  default     = true
}

variable "cache_endpoints" {
  description = "host:port of the memcached nodes to use when create_cache = false."
  type        = list(string)
  default     = []

  validation {
    condition     = var.create_cache || length(var.cache_endpoints) > 0
    error_message = "cache_endpoints is required when create_cache = false."
  }
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.micro"
}

variable "cache_num_nodes" {
  description = "Number of Memcached nodes."
  type        = number
  default     = 1
}

variable "cache_az_mode" {
  description = "single-az or cross-az (cross-az needs cache_num_nodes >= 2)."
  type        = string
  default     = "single-az"
}

variable "cache_max_item_size_bytes" {
  description = "Memcached's item size limit (a multiple of 512 KiB, at most a quarter of a node's memory); the functions are told the same value. Changing it replaces the cache cluster."
  type        = number
  default     = 1048576
}

variable "cache_transit_encryption_enabled" {
  description = "TLS between the functions and the cache (ElastiCache in-transit encryption; set at creation, so changing it replaces the cluster). With create_cache = false: whether cache_endpoints speak TLS."
  type        = bool
  default     = true
}

# --- functions and API -----------------------------------------------------------------------

variable "dist_dir" {
  description = "build.py's output folder (make package). Null: dist/ beside this module."
  type        = string
  default     = null
}

variable "architecture" {
  description = "arm64 or x86_64; must match make package LAMBDA_ARCH."
  type        = string
  default     = "arm64"
}

variable "powertools_layer_arn" {
  description = "Powertools for AWS Lambda (Python) v3 layer ARN; null uses AWS's public layer at powertools_layer_version where AWS publishes one (commercial regions, cn-north-1, GovCloud), and is required elsewhere."
  type        = string
  default     = null
}

variable "powertools_layer_version" {
  description = "Version of AWS's public Powertools v3 layer for python3.12."
  type        = number
  default     = 27
}

variable "tracing_enabled" {
  description = "Trace the functions with AWS X-Ray (Active tracing and Powertools' Tracer); off by default: X-Ray charges per trace."
  type        = bool
  default     = false
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' own metrics (hits, misses, scans, invalidations, ...)."
  type        = string
  default     = "Tatourney"
}

variable "cache_ttl_seconds" {
  description = "A board older than this is rebuilt at its next read even without a change, so that the sweep (the backstop should an invalidation be lost) goes on when nothing happens."
  type        = number
  default     = 300
}

variable "stream_batching_window_seconds" {
  description = "How long the stream mappings gather records before invoking (0: freshest)."
  type        = number
  default     = 0
}

variable "log_retention_days" {
  description = "Retention of the functions' and the API's logs."
  type        = number
  default     = 14
}

variable "leaderboard_endpoint" {
  description = "What serves GET /stats: http_api (API Gateway HTTP API) or function_url (a Lambda function URL, as on LocalStack's community edition)."
  type        = string
  default     = "http_api"

  validation {
    condition     = contains(["http_api", "function_url"], var.leaderboard_endpoint)
    error_message = "leaderboard_endpoint must be http_api or function_url."
  }
}

variable "leaderboard_reserved_concurrency" {
  description = "Concurrent executions reserved for, and capping, the leaderboard function (null: unreserved). Required with leaderboard_endpoint = function_url, which has no throttle of its own."
  type        = number
  default     = null
}

variable "on_localstack" {
  description = "The provider points at LocalStack (examples/localstack): the only place leaderboard_endpoint = function_url may run without leaderboard_reserved_concurrency. Never true on AWS."
  type        = bool
  default     = false
}

variable "iam_role_path" {
  description = "Path of the functions' IAM roles (e.g. /tatourney/)."
  type        = string
  default     = "/"
}

variable "permissions_boundary_arn" {
  description = "Managed policy set as the permissions boundary of the functions' roles (null: none)."
  type        = string
  default     = null
}

variable "api_throttling_rate_limit" {
  description = "Requests per second the API accepts."
  type        = number
  default     = 50
}

variable "api_throttling_burst_limit" {
  description = "Burst the API accepts above the rate."
  type        = number
  default     = 100
}

# --- site ------------------------------------------------------------------------------------

variable "site_dir" {
  description = "The site's files. Null: site/ beside this module."
  type        = string
  default     = null
}

variable "use_cloudfront" {
  description = "Serve the site through CloudFront (HTTPS, private bucket). False: S3 website hosting (HTTP, publicly readable objects), which an account's or organisation's S3 Block Public Access refuses."
  type        = bool
  default     = true
}

variable "stats_edge_ttl_seconds" {
  description = "Seconds CloudFront keeps each page of GET /stats (keyed on limit and offset) and answers its conditional requests itself; viewers may see a board up to this much older than the origin's. 0: every request goes to the API."
  type        = number
  default     = 2
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests per client IP in 5 minutes past which a WAF web ACL on the distribution blocks it; null: no web ACL (it costs about 6 USD a month plus 0.60 USD per million requests). Needs the stack in us-east-1, where CloudFront's web ACLs live."
  type        = number
  default     = null
}

variable "site_domain_names" {
  description = "Your own names for the site (CloudFront aliases), served with site_acm_certificate_arn; empty: the *.cloudfront.net name."
  type        = list(string)
  default     = []
}

variable "site_acm_certificate_arn" {
  description = "ACM certificate (in us-east-1) covering site_domain_names, served with TLS 1.2 or later (TLSv1.2_2021)."
  type        = string
  default     = null
}

variable "extra_cors_origins" {
  description = "Origins besides the site's that may call the API from a browser (e.g. http://localhost:8080)."
  type        = list(string)
  default     = []
}

variable "checker_enabled" {
  description = "Deploy the consistency checker: a function on the stats stream that reports from memcached alone whether each change reached the cached board (its metrics, an alarm on any inconsistency and a dashboard row come with monitoring)."
  type        = bool
  default     = true
}

# --- monitoring ------------------------------------------------------------------------------

variable "create_monitoring" {
  description = "Create the CloudWatch alarms, the dashboard and (unless alarm_topic_arn is given) an SNS topic for the alarms (modules/monitoring)."
  type        = bool
  default     = true
}

variable "alarm_topic_arn" {
  description = "SNS topic the alarms notify (alarm and back to OK). Null: the monitoring module creates an encrypted one."
  type        = string
  default     = null
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the topic the monitoring module creates (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "alarm_thresholds" {
  description = "Overrides of the alarms' thresholds; an attribute left out keeps the monitoring module's default (its README says why each default is what it is)."
  type = object({
    iterator_age_seconds         = optional(number)
    failed_records               = optional(number)
    stats_read_throttles         = optional(number)
    api_server_errors            = optional(number)
    busy_answers_percent         = optional(number)
    refused_percent              = optional(number)
    function_errors              = optional(number)
    function_throttles           = optional(number)
    cache_evictions              = optional(number)
    cache_cpu_percent            = optional(number)
    cache_connections            = optional(number)
    evaluation_minutes           = optional(number)
    breaching_minutes_to_alarm   = optional(number)
    inconsistent_checks          = optional(number)
    inconsistency_period_minutes = optional(number)
  })
  default = {}
}
