locals {
  # The only query parameters of GET /stats: the edge's cache key and what reaches the API.
  stats_query_parameters = ["limit", "offset"]

  content_types = {
    html = "text/html; charset=utf-8"
    css  = "text/css; charset=utf-8"
    js   = "text/javascript; charset=utf-8"
    json = "application/json"
    svg  = "image/svg+xml"
    png  = "image/png"
    ico  = "image/x-icon"
    txt  = "text/plain; charset=utf-8"
  }

  # config.json is generated below; a copy in site_dir (e.g. from `make up`) must not shadow it.
  site_files = setsubtract(fileset(var.site_dir, "**"), ["config.json"])

  # The page's script and styles are files of the site, its data comes from GET /stats on the same
  # origin (the distribution routes /stats to the API), and nothing may frame it or post anywhere.
  # The local server sends the same header, so the browser tests run under it.
  content_security_policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

  # The host of the API (HTTP API stage or function URL): the origin of the /stats behaviour.
  api_domain = regex("^https?://([^/]+)", var.api_url)[0]

  custom_certificate = var.acm_certificate_arn != null
  site_url = (
    !var.use_cloudfront ? "http://${one(aws_s3_bucket_website_configuration.site[*].website_endpoint)}" :
    local.custom_certificate ? "https://${var.domain_names[0]}" :
    "https://${one(aws_cloudfront_distribution.site[*].domain_name)}"
  )

  # Behind CloudFront the page reads /stats from its own origin; without it, from the API.
  api_base_url = var.use_cloudfront ? local.site_url : var.api_url

  # Managed policies (AWS publishes their IDs): no caching for config.json, and for /stats when
  # stats_edge_ttl_seconds = 0.
  caching_disabled_policy_id  = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
  caching_optimized_policy_id = "658327ea-f89d-4fab-a63d-7e88639e58f6"
}

resource "aws_s3_bucket" "site" {
  bucket_prefix = "${var.name}-site-"
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_ownership_controls" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# ACLs stay blocked either way; only website hosting needs a public bucket policy.
resource "aws_s3_bucket_public_access_block" "site" {
  bucket = aws_s3_bucket.site.id

  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = var.use_cloudfront
  restrict_public_buckets = var.use_cloudfront
}

resource "aws_s3_bucket_server_side_encryption_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_website_configuration" "site" {
  count = var.use_cloudfront ? 0 : 1

  bucket = aws_s3_bucket.site.id

  index_document {
    suffix = "index.html"
  }
}

data "aws_iam_policy_document" "site" {
  # S3 website hosting is plain HTTP, so the TLS-only rule exists only behind CloudFront.
  dynamic "statement" {
    for_each = var.use_cloudfront ? [1] : []
    content {
      sid       = "DenyInsecureTransport"
      effect    = "Deny"
      actions   = ["s3:*"]
      resources = [aws_s3_bucket.site.arn, "${aws_s3_bucket.site.arn}/*"]

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

  statement {
    sid       = var.use_cloudfront ? "CloudFrontReadsObjects" : "PublicReadsObjects"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.site.arn}/*"]

    principals {
      type        = var.use_cloudfront ? "Service" : "*"
      identifiers = var.use_cloudfront ? ["cloudfront.amazonaws.com"] : ["*"]
    }

    dynamic "condition" {
      for_each = var.use_cloudfront ? [1] : []
      content {
        test     = "StringEquals"
        variable = "AWS:SourceArn"
        values   = [aws_cloudfront_distribution.site[0].arn]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "site" {
  bucket = aws_s3_bucket.site.id
  policy = data.aws_iam_policy_document.site.json

  # S3 refuses a public policy until the public access block allows it.
  depends_on = [aws_s3_bucket_public_access_block.site]
}

resource "aws_s3_object" "site_files" {
  for_each = local.site_files

  bucket        = aws_s3_bucket.site.id
  key           = each.value
  source        = "${var.site_dir}/${each.value}"
  etag          = filemd5("${var.site_dir}/${each.value}")
  content_type  = lookup(local.content_types, lower(reverse(split(".", each.value))[0]), "application/octet-stream")
  cache_control = "no-cache"

  lifecycle {
    precondition {
      condition     = contains(local.site_files, "index.html")
      error_message = "site_dir (${var.site_dir}) has no index.html."
    }
  }
}

resource "aws_s3_object" "config" {
  bucket        = aws_s3_bucket.site.id
  key           = "config.json"
  content       = jsonencode({ api_base_url = local.api_base_url })
  content_type  = "application/json"
  cache_control = "no-cache"
}

resource "aws_cloudfront_origin_access_control" "site" {
  count = var.use_cloudfront ? 1 : 0

  name                              = "${var.name}-site"
  description                       = "tatourney site bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# GET /stats at the edge: each page (limit, offset) is kept stats_edge_ttl_seconds, within what the
# handler's Cache-Control allows shared caches (s-maxage), and CloudFront answers If-None-Match
# from it: one origin request per page, edge location and TTL, however many viewers poll.
resource "aws_cloudfront_cache_policy" "stats" {
  count = var.use_cloudfront && var.stats_edge_ttl_seconds > 0 ? 1 : 0

  name        = "${var.name}-stats"
  comment     = "GET /stats: a page per limit and offset, for a few seconds"
  min_ttl     = 0
  default_ttl = var.stats_edge_ttl_seconds
  max_ttl     = var.stats_edge_ttl_seconds

  parameters_in_cache_key_and_forwarded_to_origin {
    # The handler gzips when asked (HTTP APIs do not): a gzip and an identity copy per page.
    enable_accept_encoding_gzip   = true
    enable_accept_encoding_brotli = false

    query_strings_config {
      query_string_behavior = "whitelist"
      query_strings {
        items = local.stats_query_parameters
      }
    }

    headers_config {
      header_behavior = "none"
    }

    cookies_config {
      cookie_behavior = "none"
    }
  }
}

# What reaches the API: limit and offset only (also with caching off). Any other parameter is
# dropped rather than forwarded, so a request that differs from a cached page only in a parameter
# outside the key cannot put its own answer (the handler's 400) into that page's cache entry.
resource "aws_cloudfront_origin_request_policy" "stats" {
  count = var.use_cloudfront ? 1 : 0

  name    = "${var.name}-stats"
  comment = "GET /stats: only limit and offset reach the API"

  query_strings_config {
    query_string_behavior = "whitelist"
    query_strings {
      items = local.stats_query_parameters
    }
  }

  headers_config {
    header_behavior = "none"
  }

  cookies_config {
    cookie_behavior = "none"
  }
}

resource "aws_cloudfront_response_headers_policy" "site" {
  #checkov:skip=CKV_AWS_259:HSTS without preload: preloading enrols a domain and its subdomains in browsers' lists, the domain owner's decision
  count = var.use_cloudfront ? 1 : 0

  name    = "${var.name}-site"
  comment = "Content-Security-Policy and the other security headers of the site and /stats"

  security_headers_config {
    content_security_policy {
      content_security_policy = local.content_security_policy
      override                = true
    }

    content_type_options {
      override = true
    }

    frame_options {
      frame_option = "DENY"
      override     = true
    }

    referrer_policy {
      referrer_policy = "no-referrer"
      override        = true
    }

    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      override                   = true
    }
  }
}

# Per-client limit (optional, for its fixed cost): a client past the rate is blocked at the edge,
# before the API stage's shared throttle would turn every visitor away with 429.
resource "aws_wafv2_web_acl" "site" {
  #checkov:skip=CKV_AWS_192:no Java anywhere in the stack, so no Log4j rule (and its cost)
  #checkov:skip=CKV2_AWS_31:WAF logging adds a log destination and its cost; the rule's metrics and sampled requests are on
  count = var.use_cloudfront && var.waf_rate_limit_per_5_minutes != null ? 1 : 0

  name        = "${var.name}-site"
  description = "Per-client rate limit in front of the site and GET /stats"
  scope       = "CLOUDFRONT"

  default_action {
    allow {}
  }

  rule {
    name     = "per-client-rate"
    priority = 0

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.waf_rate_limit_per_5_minutes
        aggregate_key_type = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-per-client-rate"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-site"
    sampled_requests_enabled   = true
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = aws_s3_bucket.site.region == "us-east-1"
      error_message = "waf_rate_limit_per_5_minutes needs the stack in us-east-1: CloudFront's web ACLs can only be created there."
    }
  }
}

resource "aws_cloudfront_distribution" "site" {
  count = var.use_cloudfront ? 1 : 0

  enabled             = true
  comment             = "${var.name} leaderboard site"
  default_root_object = "index.html"
  price_class         = var.cloudfront_price_class
  http_version        = "http2and3"
  aliases             = var.domain_names
  web_acl_id          = one(aws_wafv2_web_acl.site[*].arn)

  origin {
    origin_id                = "site"
    domain_name              = aws_s3_bucket.site.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.site[0].id
  }

  origin {
    origin_id   = "api"
    domain_name = local.api_domain

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  default_cache_behavior {
    target_origin_id           = "site"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.caching_optimized_policy_id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.site[0].id
  }

  # The leaderboard, from the same origin as the page (no CORS needed there).
  ordered_cache_behavior {
    path_pattern               = "/stats"
    target_origin_id           = "api"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = var.stats_edge_ttl_seconds > 0 ? aws_cloudfront_cache_policy.stats[0].id : local.caching_disabled_policy_id
    origin_request_policy_id   = aws_cloudfront_origin_request_policy.stats[0].id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.site[0].id
  }

  # The API address must change with a redeploy at once: config.json is never cached.
  ordered_cache_behavior {
    path_pattern               = "/config.json"
    target_origin_id           = "site"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = local.caching_disabled_policy_id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.site[0].id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  # Your certificate: TLS 1.2 or later only. The default *.cloudfront.net certificate cannot
  # refuse older versions (CloudFront sets TLSv1 for it).
  viewer_certificate {
    cloudfront_default_certificate = !local.custom_certificate
    acm_certificate_arn            = var.acm_certificate_arn
    ssl_support_method             = local.custom_certificate ? "sni-only" : null
    minimum_protocol_version       = local.custom_certificate ? "TLSv1.2_2021" : "TLSv1"
  }

  tags = var.tags
}
