data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  manifest_path = "${var.dist_dir}/manifest.json"
  manifest      = fileexists(local.manifest_path) ? jsondecode(file(local.manifest_path)) : null

  partition = data.aws_partition.current.partition
  # The stack's region, from its stats table's ARN (arn:partition:dynamodb:region:...):
  # data.aws_region names it `name` in provider 5.x and `region` in 6.x (where `name` is
  # deprecated), and the modules support both.
  region     = split(":", var.stats_table.arn)[3]
  account_id = data.aws_caller_identity.current.account_id

  # The accounts that publish AWS's public Powertools for AWS Lambda (Python) v3 layers, by
  # partition and region ("*": every region of the partition), as the Powertools installation
  # docs list them (docs/getting-started/install.md of aws-powertools/powertools-lambda-python).
  # Elsewhere (other China regions, ISO partitions) there is no public layer: the precondition on
  # the functions asks for powertools_layer_arn.
  powertools_layer_publishers = {
    aws        = { "*" = "017000801446" }
    aws-cn     = { cn-north-1 = "498634801083" }
    aws-us-gov = { us-gov-east-1 = "165087284144", us-gov-west-1 = "165093116878" }
  }
  powertools_publishers_here = lookup(local.powertools_layer_publishers, local.partition, {})
  powertools_layer_publisher = lookup(local.powertools_publishers_here, local.region, lookup(local.powertools_publishers_here, "*", null))
  powertools_layer_arn = (
    var.powertools_layer_arn != null ? var.powertools_layer_arn :
    local.powertools_layer_publisher == null ? null :
    "arn:${local.partition}:lambda:${local.region}:${local.powertools_layer_publisher}:layer:AWSLambdaPowertoolsPythonV3-python312-${var.architecture}:${var.powertools_layer_version}"
  )

  in_vpc = length(var.subnet_ids) > 0

  # Powertools' settings, the same on every function but its service name: the one dimension of
  # its metrics (tests/terraform checks each function has all four).
  powertools_environment = {
    for function in keys(local.functions) : function => {
      POWERTOOLS_SERVICE_NAME      = "${var.name}-${function}"
      POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
      POWERTOOLS_LOG_LEVEL         = var.log_level
      POWERTOOLS_TRACE_DISABLED    = tostring(!var.tracing_enabled)
    }
  }

  # What the site's script sends and reads across origins, for either front door: it revalidates
  # its page with If-None-Match (so the browser asks first; max_age keeps that to one preflight
  # an hour) and reads the tag, the cache outcome and when to retry a 503.
  cors = {
    allow_methods   = ["GET"]
    allow_headers   = ["If-None-Match"]
    expose_headers  = ["ETag", "Retry-After", "X-Cache"]
    max_age_seconds = 3600
  }

  http_api     = var.leaderboard_endpoint == "http_api" ? 1 : 0
  function_url = var.leaderboard_endpoint == "function_url" ? 1 : 0

  cache_environment = {
    CACHE_ENDPOINTS  = join(",", var.cache_endpoints)
    CACHE_KEY_PREFIX = coalesce(var.cache_key_prefix, var.name)
    CACHE_TIMEOUT_MS = tostring(var.cache_timeout_ms)
    CACHE_TLS        = tostring(var.cache_tls)
    # The functions add the stream's identity to the key prefix: a re-created stats table starts
    # with an empty cache instead of the old table's boards (src/tatourney/config.py).
    STATS_STREAM_ARN = var.stats_table.stream_arn
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
    # The consistency checker: a second consumer of the stats stream beside invalidate (DynamoDB
    # Streams serve two readers per shard). It reads memcached only, once per batch: never the
    # table (no DynamoDB grant below), never a rebuild.
    checker = {
      description = "stats stream -> checks from memcached alone that each change reached the cached board"
      memory_mb   = var.memory_mb.checker
      # The re-checks, plus a cold start and one round trip with time to spare.
      timeout     = var.checker_recheck_seconds + 30
      uses_cache  = true
      environment = { CHECKER_RECHECK_SECONDS = tostring(var.checker_recheck_seconds) }
    }
  }
  # The functions this stack deploys: the checker is optional.
  deployed_functions = { for name, function in local.functions : name => function if name != "checker" || var.checker_enabled }

  stream_read_actions = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]

  # What Lambda itself does with the function's role: create the network interfaces of a function
  # in a VPC. The role needs these actions; the function's own code never does.
  network_interface_actions = [
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
  ]

  # The attributes aggregate's one transaction names: the game's key and marker, the player's key
  # and counters (src/tatourney/aggregation.py). Its UpdateItem grant is limited to these.
  aggregate_written_attributes = ["player", "game", "aggregated_at", "games", "wins", "total_score", "updated_at"]

  # Least privilege per function (tests/terraform checks these exact grants). The event source
  # mappings read the streams and send what they give up on to the failure queue with the
  # function's role; aggregate's one transaction updates the game (its marker) and the stats row.
  data_permissions = {
    leaderboard = [
      # Scan to build a board; BatchGetItem to re-read only the players a change touched.
      { sid = "ReadStats", actions = ["dynamodb:BatchGetItem", "dynamodb:Scan"], resources = [var.stats_table.arn] },
    ]
    aggregate = [
      {
        sid        = "FoldGameIntoStats", actions = ["dynamodb:UpdateItem"], resources = [var.games_table.arn, var.stats_table.arn]
        conditions = [{ test = "ForAllValues:StringEquals", variable = "dynamodb:Attributes", values = local.aggregate_written_attributes }]
      },
      { sid = "ReadGamesStream", actions = local.stream_read_actions, resources = [var.games_table.stream_arn] },
      { sid = "ListGamesStreams", actions = ["dynamodb:ListStreams"], resources = ["${var.games_table.arn}/stream/*"] },
      { sid = "SendFailures", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.stream_failures.arn] },
    ]
    invalidate = [
      { sid = "ReadStatsStream", actions = local.stream_read_actions, resources = [var.stats_table.stream_arn] },
      { sid = "ListStatsStreams", actions = ["dynamodb:ListStreams"], resources = ["${var.stats_table.arn}/stream/*"] },
      { sid = "SendFailures", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.stream_failures.arn] },
    ]
    checker = [
      { sid = "ReadStatsStream", actions = local.stream_read_actions, resources = [var.stats_table.stream_arn] },
      { sid = "ListStatsStreams", actions = ["dynamodb:ListStreams"], resources = ["${var.stats_table.arn}/stream/*"] },
      { sid = "SendFailures", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.stream_failures.arn] },
    ]
  }

  # Actions the role holds only for the Lambda service: the event source mapping reads the stream
  # and sends what it gives up on to the queue (aggregate sends its rejections itself, so its
  # SendMessage stays), and Lambda manages a VPC function's network interfaces. Denied to the
  # function's code (below), so a compromised dependency cannot use them.
  service_only_actions = {
    for function, settings in local.functions : function => concat(
      settings.uses_cache && local.in_vpc ? local.network_interface_actions : [],
      contains(keys(local.streams), function) ? concat(local.stream_read_actions, ["dynamodb:ListStreams"]) : [],
      contains(["invalidate", "checker"], function) ? ["sqs:SendMessage"] : [],
    )
  }

  # The tables whose items each function's requests decrypt or encrypt: the KMS grants are limited
  # to DynamoDB calls about these tables (encryption context), on the caller's behalf.
  table_key_users = {
    leaderboard = { tables = [var.stats_table.name], actions = ["kms:Decrypt"] }
    aggregate   = { tables = [var.games_table.name, var.stats_table.name], actions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"] }
    invalidate  = { tables = [var.stats_table.name], actions = ["kms:Decrypt"] }
    # The checker reads no table, but the stats stream's records are decrypted with the table's key.
    checker = { tables = [var.stats_table.name], actions = ["kms:Decrypt"] }
  }

  # IAM names are global: the region keeps a second deployment of the same name elsewhere apart.
  role_names = { for function in keys(local.functions) : function => "${var.name}-${function}-${local.region}" }

  streams = {
    aggregate = {
      source_arn              = var.games_table.stream_arn
      maximum_retry_attempts  = var.stream_maximum_retry_attempts
      maximum_record_age      = var.aggregate_maximum_record_age_seconds
      inserts_only            = true
      batching_window_seconds = var.stream_batching_window_seconds
    }
    # An invalidation fails only while memcached is unreachable, and then every record behind it
    # would fail too: it is retried (-1: no count limit) until the record is too old, rather
    # than given up after a few quick retries of a minute-long outage.
    invalidate = {
      source_arn              = var.stats_table.stream_arn
      maximum_retry_attempts  = -1
      maximum_record_age      = var.invalidate_maximum_record_age_seconds
      inserts_only            = false
      batching_window_seconds = var.stream_batching_window_seconds
    }
    # The checker never reports a record failed (a change it cannot check is counted, not
    # retried): only a crash or a timeout is retried, twice; a change an hour old is not worth
    # checking any more. Its window lets the invalidations be processed before the check.
    checker = {
      source_arn              = var.stats_table.stream_arn
      maximum_retry_attempts  = 2
      maximum_record_age      = 3600
      inserts_only            = false
      batching_window_seconds = var.checker_batching_window_seconds
    }
  }
  deployed_streams = { for name, stream in local.streams : name => stream if contains(keys(local.deployed_functions), name) }
}

resource "aws_cloudwatch_log_group" "functions" {
  for_each = local.deployed_functions

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_iam_role" "functions" {
  for_each = local.deployed_functions

  name                 = local.role_names[each.key]
  path                 = var.iam_role_path
  permissions_boundary = var.permissions_boundary_arn
  description          = "Execution role of the ${var.name}-${each.key} function"
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume_role.json

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(local.role_names[each.key]) <= 64
      error_message = "The role name ${local.role_names[each.key]} is longer than IAM's 64 characters: shorten name."
    }
  }
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
  for_each = local.deployed_functions

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

  # Network interfaces only in the function's VPC: interfaces of other workloads in the account
  # (or of this one in another VPC) stay out of reach.
  dynamic "statement" {
    for_each = each.value.uses_cache && local.in_vpc ? [1] : []
    content {
      sid     = "ManageNetworkInterfaces"
      actions = local.network_interface_actions
      resources = concat(
        ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"],
        [for subnet in var.subnet_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${subnet}"],
        [for group in var.security_group_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/${group}"],
      )

      condition {
        test     = "ArnEquals"
        variable = "ec2:Vpc"
        values   = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:vpc/${var.vpc_id}"]
      }
    }
  }

  # Requests signed by the function's code carry lambda:SourceFunctionArn; Lambda's own (network
  # interfaces, the event source mapping's reads and sends) do not.
  dynamic "statement" {
    for_each = length(local.service_only_actions[each.key]) > 0 ? [1] : []
    content {
      sid       = "OnlyLambdaItselfMayUseTheServiceGrants"
      effect    = "Deny"
      actions   = local.service_only_actions[each.key]
      resources = ["*"]

      condition {
        test     = "ArnEquals"
        variable = "lambda:SourceFunctionArn"
        values   = ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.name}-${each.key}"]
      }
    }
  }

  # What the function may do to the tables, streams and queue; nothing else touches data.
  dynamic "statement" {
    for_each = local.data_permissions[each.key]
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = lookup(statement.value, "conditions", [])
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  # With a customer managed key, DynamoDB and the stream reads decrypt with the caller's rights:
  # only through DynamoDB, and only for this stack's tables the function uses.
  dynamic "statement" {
    for_each = var.table_kms_key_arn != null ? [1] : []
    content {
      sid       = "UseTableKey"
      actions   = local.table_key_users[each.key].actions
      resources = [var.table_kms_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["dynamodb.${local.region}.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:aws:dynamodb:tableName"
        values   = local.table_key_users[each.key].tables
      }
    }
  }

  # DescribeKey carries no encryption context: through DynamoDB only.
  dynamic "statement" {
    for_each = var.table_kms_key_arn != null ? [1] : []
    content {
      sid       = "DescribeTableKey"
      actions   = ["kms:DescribeKey"]
      resources = [var.table_kms_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["dynamodb.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.tracing_enabled ? [1] : []
    content {
      sid       = "Tracing"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "functions" {
  for_each = local.deployed_functions

  name   = "${var.name}-${each.key}"
  role   = aws_iam_role.functions[each.key].id
  policy = data.aws_iam_policy_document.functions[each.key].json
}

resource "aws_lambda_function" "functions" {
  for_each = local.deployed_functions

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
  # Only the leaderboard is capped, when asked: its concurrency is what a flood of readers grows.
  reserved_concurrent_executions = each.key == "leaderboard" && var.leaderboard_reserved_concurrency != null ? var.leaderboard_reserved_concurrency : -1

  environment {
    variables = merge(
      { for key, value in local.cache_environment : key => value if each.value.uses_cache },
      each.value.environment,
      local.powertools_environment[each.key],
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

  # Traces only when asked for: X-Ray charges per trace, and the permission above follows.
  tracing_config {
    mode = var.tracing_enabled ? "Active" : "PassThrough"
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
      condition     = local.powertools_layer_arn != null
      error_message = "AWS publishes no Powertools for AWS Lambda (Python) layer in ${local.region} (partition ${local.partition}) that this module knows of: set powertools_layer_arn to a Powertools v3 layer for python3.12 and ${var.architecture}."
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

# Who may send to the queue: the two roles whose mappings give up records into it (aggregate also
# sends its rejections), over TLS only.
data "aws_iam_policy_document" "stream_failures" {
  statement {
    sid       = "MappingsSendFailures"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.stream_failures.arn]

    principals {
      type        = "AWS"
      identifiers = [for function in keys(local.streams) : aws_iam_role.functions[function].arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.stream_failures.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "stream_failures" {
  queue_url = aws_sqs_queue.stream_failures.id
  policy    = data.aws_iam_policy_document.stream_failures.json
}

resource "aws_lambda_event_source_mapping" "streams" {
  for_each = local.deployed_streams

  function_name     = aws_lambda_function.functions[each.key].arn
  event_source_arn  = each.value.source_arn
  starting_position = "TRIM_HORIZON"

  batch_size                         = var.stream_batch_size
  maximum_batching_window_in_seconds = each.value.batching_window_seconds
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = each.value.maximum_retry_attempts
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
  count = local.http_api

  name          = "${var.name}-api"
  description   = "tatourney: GET /stats"
  protocol_type = "HTTP"

  cors_configuration {
    allow_origins  = var.cors_allow_origins
    allow_methods  = local.cors.allow_methods
    allow_headers  = local.cors.allow_headers
    expose_headers = local.cors.expose_headers
    max_age        = local.cors.max_age_seconds
  }

  tags = var.tags
}

resource "aws_apigatewayv2_integration" "leaderboard" {
  count = local.http_api

  api_id                 = aws_apigatewayv2_api.this[0].id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.functions["leaderboard"].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 12000
}

resource "aws_apigatewayv2_route" "stats" {
  count = local.http_api

  api_id = aws_apigatewayv2_api.this[0].id
  # Every method reaches the function, which answers 405 with Allow: GET and a JSON error to all
  # but GET (a GET-only route would answer other methods with API Gateway's 404). CORS preflights
  # are still answered by API Gateway itself (cors_configuration).
  route_key = "ANY /stats"
  target    = "integrations/${aws_apigatewayv2_integration.leaderboard[0].id}"
}

resource "aws_cloudwatch_log_group" "api_access" {
  count = local.http_api

  name              = "/aws/apigateway/${var.name}-api"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  count = local.http_api

  api_id      = aws_apigatewayv2_api.this[0].id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.api_throttling_rate_limit
    throttling_burst_limit = var.api_throttling_burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access[0].arn
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
  count = local.http_api

  statement_id  = "AllowHttpApiStats"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.functions["leaderboard"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this[0].execution_arn}/*/*/stats"
}

# Instead of the HTTP API (leaderboard_endpoint = "function_url"): the same payload v2 event, the
# same CORS for the site, but no stage throttling or access log; on AWS only with the leaderboard's
# reserved concurrency as its cap (variables.tf refuses it otherwise).
resource "aws_lambda_function_url" "leaderboard" {
  count = local.function_url

  function_name      = aws_lambda_function.functions["leaderboard"].function_name
  authorization_type = "NONE" #checkov:skip=CKV_AWS_258:GET /stats is a public, read-only leaderboard

  cors {
    allow_origins  = var.cors_allow_origins
    allow_methods  = local.cors.allow_methods
    allow_headers  = local.cors.allow_headers
    expose_headers = local.cors.expose_headers
    max_age        = local.cors.max_age_seconds
  }
}
