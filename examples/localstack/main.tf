# The stack against LocalStack's AWS APIs; `make test` applies it (tests/localstack) and drives
# it end to end. ElastiCache, API Gateway HTTP APIs and CloudFront are not in LocalStack's
# community edition, so no cache cluster is created (the functions use a memcached you run,
# cache_endpoints), a Lambda function URL serves GET /stats and S3 website hosting the site.
# Everything else the community edition has is on: the VPC, its endpoint and security groups,
# the alarms, their topic and key, and the dashboard.
# Run with `tflocal init && tflocal apply`, or plain terraform with the endpoints of provider.tf.

locals {
  # AWS names the site's website host <bucket>.s3-website-<region>.amazonaws.com; LocalStack
  # serves it at <bucket>.s3-website.<its host>, and browsers resolve *.localhost to
  # loopback, so the site's own origin (which the function URL's CORS must allow) is this one.
  site_bucket     = module.tatourney.site_bucket_name
  localstack_port = regex(":([0-9]+)/?$", var.localstack_endpoint)[0]
  site_url        = "http://${local.site_bucket}.s3-website.localhost:${local.localstack_port}"
}

module "tatourney" {
  source = "../../"

  name = var.name

  create_network = var.create_network
  # Two zones by name: LocalStack offers every instance type everywhere, and there is no cache.
  availability_zones = ["us-east-1a", "us-east-1b"]
  create_cache       = false
  cache_endpoints    = var.cache_endpoints
  # The memcached you run speaks plain TCP.
  cache_transit_encryption_enabled = false

  # CloudFront is not in LocalStack's free edition: S3 website hosting serves the site.
  use_cloudfront    = false
  create_monitoring = var.create_monitoring

  # LocalStack has no HTTP APIs; this is the one place a function URL may run without the
  # leaderboard's reserved concurrency as its cap.
  leaderboard_endpoint = "function_url"
  on_localstack        = true

  # LocalStack serves AWS's public layers only in its paid editions: publish the Powertools layer
  # into LocalStack (tests/localstack/deployment.py's powertools_layer builds one) and pass its ARN.
  powertools_layer_arn = var.powertools_layer_arn

  deletion_protection = false
  extra_cors_origins  = concat([local.site_url], var.extra_cors_origins)
}
