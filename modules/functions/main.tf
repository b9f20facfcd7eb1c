data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  manifest_path = "${var.dist_dir}/manifest.json"
  manifest      = fileexists(local.manifest_path) ? jsondecode(file(local.manifest_path)) : null

  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id

  powertools_layer_arn = coalesce(
    var.powertools_layer_arn,
    "arn:${local.partition}:lambda:${local.region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-${var.architecture}:${var.powertools_layer_version}",
  )

  in_vpc = length(var.subnet_ids) > 0

  cache_environment = {
    CACHE_ENDPOINTS  = join(",", var.cache_endpoints)
    CACHE_KEY_PREFIX = coalesce(var.cache_key_prefix, var.name)
    CACHE_TIMEOUT_MS = tostring(var.cache_timeout_ms)
    CACHE_TLS        = tostring(var.cache_tls)
  }

  # Each function gets the cache settings if it uses the cache, and its own environment: every
  # variable src/tatourney/config.py reads (tests/terraform checks that the lists agree).
  functions = {
    leaderboard = {
      description = "GET /stats: the leaderboard, read through the Memcached cache"
      memory_mb   = var.memory_mb.leaderboard
      timeout     = 10
      uses_cache  = true
      environment = {
        STATS_TABLE            = var.stats_table.name
        CACHE_TTL_SECONDS      = tostring(var.cache_ttl_seconds)
        STALE_TTL_SECONDS      = tostring(var.stale_ttl_seconds)
        LEASE_TTL_SECONDS      = tostring(var.lease_ttl_seconds)
        LEASE_WAIT_MS          = tostring(var.lease_wait_ms)
        RETRY_AFTER_SECONDS    = tostring(var.retry_after_seconds)
        CACHE_ITEM_LIMIT_BYTES = tostring(var.cache_item_limit_bytes)
        TABLE_MAX_ATTEMPTS     = tostring(var.table_max_attempts)
      }
    }
    aggregate = {
      description = "games stream -> stats: folds each new game into its player's row, once"
      memory_mb   = var.memory_mb.aggregate
      timeout     = 60
      # Talks to DynamoDB only, so it runs outside the VPC: a VPC would add network interfaces
      # and nothing else.
      uses_cache = false
      # Records outside the bounds go to the mapping's own on-failure queue, with their reason,
      # instead of being retried (the role's SendFailures grant covers it).
      environment = {
        GAMES_TABLE         = var.games_table.name
        STATS_TABLE         = var.stats_table.name
        TABLE_MAX_ATTEMPTS  = tostring(var.table_max_attempts)
        FAILURE_DESTINATION = aws_sqs_queue.stream_failures.url
      }
    }
    invalidate = {
      description = "stats stream -> cache: bumps the leaderboard's generation and deletes it"
      memory_mb   = var.memory_mb.invalidate
      timeout     = 10
      uses_cache  = true
      environment = {}
    }
  }

  stream_read_actions = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]

  # Least privilege per function (tests/terraform checks these exact grants). The event source
  # mappings read the streams and send what they give up on to the failure queue with the
  # function's role; aggregate's one transaction updates the game (its marker) and the stats row.
  data_permissions = {
    leaderboard = [
      { sid = "ScanStats", actions = ["dynamodb:Scan"], resources = [var.stats_table.arn] },
    ]
    aggregate = [
      { sid = "FoldGameIntoStats", actions = ["dynamodb:UpdateItem"], resources = [var.games_table.arn, var.stats_table.arn] },
      { sid = "ReadGamesStream", actions = local.stream_read_actions, resources = [var.games_table.stream_arn] },
      { sid = "ListGamesStreams", actions = ["dynamodb:ListStreams"], resources = ["${var.games_table.arn}/stream/*"] },
      { sid = "SendFailures", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.stream_failures.arn] },
    ]
    invalidate = [
      { sid = "ReadStatsStream", actions = local.stream_read_actions, resources = [var.stats_table.stream_arn] },
      { sid = "ListStatsStreams", actions = ["dynamodb:ListStreams"], resources = ["${var.stats_table.arn}/stream/*"] },
      { sid = "SendFailures", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.stream_failures.arn] },
    ]
  }

  streams = {
    aggregate = {
      source_arn         = var.games_table.stream_arn
      maximum_record_age = var.aggregate_maximum_record_age_seconds
      inserts_only       = true
    }
    invalidate = {
      source_arn         = var.stats_table.stream_arn
      maximum_record_age = var.invalidate_maximum_record_age_seconds
      inserts_only       = false
    }
  }
}

resource "aws_cloudwatch_log_group" "functions" {
  for_each = local.functions

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_iam_role" "functions" {
  for_each = local.functions

  name               = "${var.name}-${each.key}"
  description        = "Execution role of the ${var.name}-${each.key} function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume_role.json

  tags = var.tags
}

data "aws_iam_policy_document" "lambda_assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "functions" {
  for_each = local.functions

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.functions[each.key].arn}:*"]
  }

  # Lambda creates the function's network interfaces with its role. Describe calls cannot be
  # scoped to resources; the others are limited to the function's subnets and security groups.
  dynamic "statement" {
    for_each = each.value.uses_cache && local.in_vpc ? [1] : []
    content {
      sid       = "DescribeNetworkInterfaces"
      actions   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = each.value.uses_cache && local.in_vpc ? [1] : []
    content {
      sid = "ManageNetworkInterfaces"
      actions = [
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ]
      resources = concat(
        ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"],
        [for subnet in var.subnet_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${subnet}"],
        [for group in var.security_group_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/${group}"],
      )
    }
  }

  # What the function may do to the tables, streams and queue; nothing else touches data.
  dynamic "statement" {
    for_each = local.data_permissions[each.key]
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }

  # With a customer managed key, DynamoDB and the stream reads decrypt with the caller's rights.
  dynamic "statement" {
    for_each = var.table_kms_key_arn != null ? [1] : []
    content {
      sid       = "UseTableKey"
      actions   = each.key == "aggregate" ? ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"] : ["kms:Decrypt", "kms:DescribeKey"]
      resources = [var.table_kms_key_arn]
    }
  }

  dynamic "statement" {
    for_each = var.tracing_mode == "Active" ? [1] : []
    content {
      sid       = "Tracing"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "functions" {
  for_each = local.functions

  name   = "${var.name}-${each.key}"
  role   = aws_iam_role.functions[each.key].id
  policy = data.aws_iam_policy_document.functions[each.key].json
}

resource "aws_lambda_function" "functions" {
  for_each = local.functions

  function_name    = "${var.name}-${each.key}"
  description      = each.value.description
  role             = aws_iam_role.functions[each.key].arn
  filename         = "${var.dist_dir}/${each.key}.zip"
  source_code_hash = try(local.manifest.functions[each.key].source_code_hash, null)
  handler          = try(local.manifest.functions[each.key].handler, "${each.key}_handler.handler")
  runtime          = "python3.12"
  architectures    = [var.architecture]
  memory_size      = each.value.memory_mb
  timeout          = each.value.timeout
  layers           = [local.powertools_layer_arn]

  environment {
    variables = merge(
      { for key, value in local.cache_environment : key => value if each.value.uses_cache },
      each.value.environment,
      { POWERTOOLS_LOG_LEVEL = var.log_level },
    )
  }

  dynamic "vpc_config" {
    for_each = each.value.uses_cache && local.in_vpc ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.functions[each.key].name
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.manifest != null
      error_message = "${local.manifest_path} not found: run `make package` before terraform plan or apply."
    }

    precondition {
      condition     = try(local.manifest.architecture, var.architecture) == var.architecture
      error_message = "dist/ was built for ${try(local.manifest.architecture, "?")} but architecture is ${var.architecture}: run `make package LAMBDA_ARCH=${var.architecture}`."
    }

    precondition {
      condition     = try(local.manifest.runtime, "python3.12") == "python3.12"
      error_message = "dist/ was built for ${try(local.manifest.runtime, "?")}; these functions run python3.12."
    }
  }

  depends_on = [aws_iam_role_policy.functions]
}

# Records a mapping gives up on (retries or age exhausted) land here with their shard and
# sequence numbers, and records aggregate rejects (outside the bounds) with their reason and the
# record; to be inspected and replayed, nothing is dropped silently. aggregate keeps its messages
# within max_message_size (src/tatourney/rejections.py, QUEUE_MESSAGE_LIMIT_BYTES).
resource "aws_sqs_queue" "stream_failures" {
  name                      = "${var.name}-stream-failures"
  message_retention_seconds = 1209600
  max_message_size          = 262144
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

resource "aws_lambda_event_source_mapping" "streams" {
  for_each = local.streams

  function_name     = aws_lambda_function.functions[each.key].arn
  event_source_arn  = each.value.source_arn
  starting_position = "TRIM_HORIZON"

  batch_size                         = var.stream_batch_size
  maximum_batching_window_in_seconds = var.stream_batching_window_seconds
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = var.stream_maximum_retry_attempts
  maximum_record_age_in_seconds      = each.value.maximum_record_age
  function_response_types            = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.stream_failures.arn
    }
  }

  # aggregate needs only new games: its own aggregated_at marker MODIFYs every game, and those
  # records would otherwise invoke it for nothing. invalidate has no filter: every stats change
  # may move the board, and the handler skips the ones that cannot.
  dynamic "filter_criteria" {
    for_each = each.value.inserts_only ? [1] : []
    content {
      filter {
        pattern = jsonencode({ eventName = ["INSERT"] })
      }
    }
  }

  depends_on = [aws_iam_role_policy.functions]
}

resource "aws_apigatewayv2_api" "this" {
  name          = "${var.name}-api"
  description   = "tatourney: GET /stats"
  protocol_type = "HTTP"

  cors_configuration {
    allow_origins  = var.cors_allow_origins
    allow_methods  = ["GET"]
    expose_headers = ["Retry-After", "X-Cache"]
    max_age        = 3600
  }

  tags = var.tags
}

resource "aws_apigatewayv2_integration" "leaderboard" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.functions["leaderboard"].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 12000
}

resource "aws_apigatewayv2_route" "stats" {
  api_id    = aws_apigatewayv2_api.this.id
  route_key = "GET /stats"
  target    = "integrations/${aws_apigatewayv2_integration.leaderboard.id}"
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.name}-api"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.api_throttling_rate_limit
    throttling_burst_limit = var.api_throttling_burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId      = "$context.requestId"
      requestTime    = "$context.requestTime"
      routeKey       = "$context.routeKey"
      status         = "$context.status"
      latencyMs      = "$context.responseLatency"
      integrationMs  = "$context.integrationLatency"
      integrationErr = "$context.integrationErrorMessage"
      sourceIp       = "$context.identity.sourceIp"
    })
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApiGetStats"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.functions["leaderboard"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/GET/stats"
}
