# tatourney: a tournament leaderboard served from Memcached in front of a 1-read-unit DynamoDB
# table, invalidated from the table's stream. One module per concern; this root wires them.

locals {
  dist_dir = coalesce(var.dist_dir, "${path.module}/dist")
  site_dir = coalesce(var.site_dir, "${path.module}/site")
}

module "network" {
  source = "./modules/network"
  count  = var.create_network ? 1 : 0

  name                     = var.name
  create_vpc               = var.create_vpc
  vpc_cidr                 = var.vpc_cidr
  vpc_id                   = var.vpc_id
  subnet_ids               = var.subnet_ids
  route_table_ids          = var.route_table_ids
  availability_zones       = var.availability_zones
  cache_node_type          = var.create_cache ? var.cache_node_type : null
  create_dynamodb_endpoint = var.create_dynamodb_endpoint
  stats_table_arn          = module.table.stats_table_arn
  leaderboard_role_arn     = module.functions.role_arns["leaderboard"]

  tags = var.tags
}

module "table" {
  source = "./modules/table"

  name                   = var.name
  stats_read_capacity    = var.stats_read_capacity
  stats_write_capacity   = var.stats_write_capacity
  kms_key_arn            = var.table_kms_key_arn
  point_in_time_recovery = var.point_in_time_recovery
  deletion_protection    = var.deletion_protection

  tags = var.tags
}

module "cache" {
  source = "./modules/cache"
  count  = var.create_cache ? 1 : 0

  name                       = var.name
  subnet_ids                 = module.network[0].subnet_ids
  security_group_ids         = [module.network[0].cache_security_group_id]
  node_type                  = var.cache_node_type
  num_nodes                  = var.cache_num_nodes
  az_mode                    = var.cache_az_mode
  max_item_size_bytes        = var.cache_max_item_size_bytes
  transit_encryption_enabled = var.cache_transit_encryption_enabled

  tags = var.tags
}

module "functions" {
  source = "./modules/functions"

  name                     = var.name
  dist_dir                 = local.dist_dir
  architecture             = var.architecture
  powertools_layer_arn     = var.powertools_layer_arn
  powertools_layer_version = var.powertools_layer_version
  tracing_enabled          = var.tracing_enabled
  metrics_namespace        = var.metrics_namespace

  games_table = {
    name       = module.table.games_table_name
    arn        = module.table.games_table_arn
    stream_arn = module.table.games_stream_arn
  }
  stats_table = {
    name       = module.table.stats_table_name
    arn        = module.table.stats_table_arn
    stream_arn = module.table.stats_stream_arn
  }
  table_kms_key_arn = var.table_kms_key_arn

  cache_endpoints        = var.create_cache ? module.cache[0].node_endpoints : var.cache_endpoints
  cache_tls              = var.cache_transit_encryption_enabled
  cache_item_limit_bytes = var.cache_max_item_size_bytes
  cache_ttl_seconds      = var.cache_ttl_seconds

  vpc_id             = var.create_network ? module.network[0].vpc_id : null
  subnet_ids         = var.create_network ? module.network[0].subnet_ids : []
  security_group_ids = var.create_network ? [module.network[0].functions_security_group_id] : []

  stream_batching_window_seconds = var.stream_batching_window_seconds
  log_retention_days             = var.log_retention_days
  # Behind CloudFront the page reads /stats from its own origin; S3 website hosting calls the API
  # across origins.
  cors_allow_origins         = concat(compact([module.site.cross_origin_site_url]), var.extra_cors_origins)
  api_throttling_rate_limit  = var.api_throttling_rate_limit
  api_throttling_burst_limit = var.api_throttling_burst_limit
  leaderboard_endpoint       = var.leaderboard_endpoint
  checker_enabled            = var.checker_enabled

  leaderboard_reserved_concurrency = var.leaderboard_reserved_concurrency
  on_localstack                    = var.on_localstack
  iam_role_path                    = var.iam_role_path
  permissions_boundary_arn         = var.permissions_boundary_arn

  tags = var.tags
}

module "site" {
  source = "./modules/site"

  name           = var.name
  site_dir       = local.site_dir
  api_url        = module.functions.api_url
  use_cloudfront = var.use_cloudfront

  stats_edge_ttl_seconds       = var.stats_edge_ttl_seconds
  waf_rate_limit_per_5_minutes = var.waf_rate_limit_per_5_minutes
  domain_names                 = var.site_domain_names
  acm_certificate_arn          = var.site_acm_certificate_arn

  tags = var.tags
}

module "monitoring" {
  source = "./modules/monitoring"
  count  = var.create_monitoring ? 1 : 0

  name               = var.name
  metrics_namespace  = var.metrics_namespace
  function_names     = module.functions.function_names
  api_id             = module.functions.api_id
  api_stage_name     = module.functions.api_stage_name
  stats_table_name   = module.table.stats_table_name
  failure_queue_name = module.functions.stream_failures_queue_name
  cache_cluster_id   = var.create_cache ? module.cache[0].cluster_id : null
  cache_num_nodes    = var.create_cache ? var.cache_num_nodes : 0

  alarm_topic_arn = var.alarm_topic_arn
  alarm_emails    = var.alarm_emails

  iterator_age_threshold_seconds  = var.alarm_thresholds.iterator_age_seconds
  failed_records_threshold        = var.alarm_thresholds.failed_records
  stats_read_throttles_threshold  = var.alarm_thresholds.stats_read_throttles
  api_server_errors_threshold     = var.alarm_thresholds.api_server_errors
  busy_answers_threshold_percent  = var.alarm_thresholds.busy_answers_percent
  refused_share_threshold_percent = var.alarm_thresholds.refused_percent
  function_errors_threshold       = var.alarm_thresholds.function_errors
  function_throttles_threshold    = var.alarm_thresholds.function_throttles
  cache_evictions_threshold       = var.alarm_thresholds.cache_evictions
  cache_cpu_threshold_percent     = var.alarm_thresholds.cache_cpu_percent
  cache_connections_threshold     = var.alarm_thresholds.cache_connections
  evaluation_minutes              = var.alarm_thresholds.evaluation_minutes
  breaching_minutes_to_alarm      = var.alarm_thresholds.breaching_minutes_to_alarm
  inconsistent_checks_threshold   = var.alarm_thresholds.inconsistent_checks
  inconsistency_period_minutes    = var.alarm_thresholds.inconsistency_period_minutes

  tags = var.tags
}
