output "site_url" {
  description = "The leaderboard site."
  value       = module.site.website_url
}

output "site_bucket_name" {
  description = "The bucket holding the site's files."
  value       = module.site.bucket_name
}

output "api_url" {
  description = "Base URL of the HTTP API, or of the function URL with leaderboard_endpoint = function_url."
  value       = module.functions.api_url
}

output "stats_url" {
  description = "The leaderboard's JSON: GET it (curl -i shows X-Cache)."
  value       = "${trimsuffix(module.functions.api_url, "/")}/stats"
}

output "games_table_name" {
  description = "Table the games are written to."
  value       = module.table.games_table_name
}

output "stats_table_name" {
  description = "Table of per-player stats (provisioned at stats_read_capacity read units)."
  value       = module.table.stats_table_name
}

output "cache_endpoint" {
  description = "The Memcached cluster's configuration endpoint, or the external cache_endpoints joined."
  value       = var.create_cache ? module.cache[0].configuration_endpoint : join(",", var.cache_endpoints)
}

output "cache_node_endpoints" {
  description = "host:port of each Memcached node the functions use."
  value       = var.create_cache ? module.cache[0].node_endpoints : var.cache_endpoints
}

output "function_names" {
  description = "The functions by role."
  value       = module.functions.function_names
}

output "stream_failures_queue_url" {
  description = "Where stream records the functions could not process end up."
  value       = module.functions.stream_failures_queue_url
}

output "dashboard_name" {
  description = "The CloudWatch dashboard (hit ratio, scans, freshness, alarms), or null without create_monitoring."
  value       = one(module.monitoring[*].dashboard_name)
}

output "alarm_topic_arn" {
  description = "The SNS topic the alarms notify, or null without create_monitoring."
  value       = one(module.monitoring[*].alarm_topic_arn)
}
