# The AWS provider pointed at LocalStack (its test credentials; no account to look up).

provider "aws" {
  region     = "us-east-1"
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

  # Every service the stack uses, those of the paid LocalStack editions included (ElastiCache,
  # API Gateway, CloudFront, WAF): tests/terraform_apply also plans examples/complete with this
  # provider, as an override file.
  endpoints {
    apigatewayv2   = var.localstack_endpoint
    cloudfront     = var.localstack_endpoint
    cloudwatch     = var.localstack_endpoint
    cloudwatchlogs = var.localstack_endpoint
    dynamodb       = var.localstack_endpoint
    ec2            = var.localstack_endpoint
    elasticache    = var.localstack_endpoint
    iam            = var.localstack_endpoint
    kms            = var.localstack_endpoint
    lambda         = var.localstack_endpoint
    s3             = var.localstack_endpoint
    sns            = var.localstack_endpoint
    sqs            = var.localstack_endpoint
    sts            = var.localstack_endpoint
    wafv2          = var.localstack_endpoint
  }
}
