output "site_url" {
  description = "The leaderboard site (S3 website hosting in LocalStack)."
  value       = module.tatourney.site_url
}

output "stats_url" {
  description = "The leaderboard's JSON."
  value       = module.tatourney.stats_url
}
