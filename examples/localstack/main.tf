# The stack against LocalStack's AWS APIs, as tests/localstack deploys it. ElastiCache and API
# Gateway HTTP APIs are not in LocalStack's community edition, so no cache or VPC is created (the
# functions use a memcached you run, cache_endpoints) and a Lambda function URL serves GET /stats.
# Run with `tflocal init && tflocal apply`, or plain terraform with the endpoints below;
# tests/terraform_apply applies it with pytest-terraform.

provider "aws" {
  region     = "us-east-1"
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

  endpoints {
    cloudwatchlogs = var.localstack_endpoint
    dynamodb       = var.localstack_endpoint
    iam            = var.localstack_endpoint
    lambda         = var.localstack_endpoint
    s3             = var.localstack_endpoint
    sqs            = var.localstack_endpoint
    sts            = var.localstack_endpoint
  }
}

module "tatourney" {
  source = "../../"

  name = "tatourney"

  create_network  = false
  create_cache    = false
  cache_endpoints = var.cache_endpoints
  # The memcached you run speaks plain TCP.
  cache_transit_encryption_enabled = false

  # CloudFront is not in LocalStack's free edition: S3 website hosting serves the site.
  use_cloudfront = false
  # The provider above points only these services at LocalStack; alarms and the dashboard would
  # go to CloudWatch, SNS and KMS (make up shows the same figures locally).
  create_monitoring = false

  # LocalStack has no HTTP APIs; this is the one place a function URL may run without the
  # leaderboard's reserved concurrency as its cap.
  leaderboard_endpoint = "function_url"
  on_localstack        = true

  # LocalStack serves AWS's public layers only in its paid editions: publish the Powertools layer
  # into LocalStack (tests/localstack/deployment.py's powertools_layer builds one) and pass its ARN.
  powertools_layer_arn = var.powertools_layer_arn

  deletion_protection = false
  extra_cors_origins  = var.extra_cors_origins
}
