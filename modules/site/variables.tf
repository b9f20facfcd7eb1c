variable "name" {
  description = "Prefix of the bucket's name (a unique suffix is added) and of the CloudFront resources."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,30}$", var.name))
    error_message = "name must be 1-31 lowercase letters, digits or hyphens, starting with a letter or digit."
  }
}

variable "site_dir" {
  description = "Folder whose files are the site (every file is uploaded, keeping its relative path)."
  type        = string
}

variable "api_url" {
  description = "Base URL of the API, written to the site's config.json as api_base_url."
  type        = string

  validation {
    condition     = can(regex("^https?://", var.api_url))
    error_message = "api_url must be an http(s) URL."
  }
}

variable "use_cloudfront" {
  description = "Serve the site through CloudFront over HTTPS with a private bucket (origin access control). False: S3 website hosting over HTTP with publicly readable objects, which S3 Block Public Access (account or organisation) refuses."
  type        = bool
  default     = true
}

variable "cloudfront_price_class" {
  description = "CloudFront price class (use_cloudfront = true)."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cloudfront_price_class)
    error_message = "cloudfront_price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "stats_edge_ttl_seconds" {
  description = "Seconds CloudFront keeps each page of GET /stats (keyed on limit and offset only) and answers conditional requests for it; viewers may see a board up to this much older than the API's. 0: no edge caching."
  type        = number
  default     = 2

  validation {
    # The handler's Cache-Control (s-maxage, src/tatourney/responses.py) caps it: CloudFront keeps
    # an answer no longer than its origin allows.
    condition     = var.stats_edge_ttl_seconds >= 0 && var.stats_edge_ttl_seconds <= 5 && floor(var.stats_edge_ttl_seconds) == var.stats_edge_ttl_seconds
    error_message = "stats_edge_ttl_seconds must be a whole number from 0 to 5 (the API's answers allow shared caches 5 s: s-maxage=5)."
  }
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests per client IP in 5 minutes past which a WAF web ACL on the distribution blocks the client; null: no web ACL (about 6 USD a month: 5 for the ACL, 1 for the rule, plus 0.60 USD per million requests). CloudFront's web ACLs are created in us-east-1 only, so the stack must be there."
  type        = number
  default     = null

  validation {
    condition     = var.waf_rate_limit_per_5_minutes == null || try(var.waf_rate_limit_per_5_minutes >= 10 && var.waf_rate_limit_per_5_minutes <= 2000000000 && floor(var.waf_rate_limit_per_5_minutes) == var.waf_rate_limit_per_5_minutes, false)
    error_message = "waf_rate_limit_per_5_minutes must be a whole number from 10 to 2000000000 (WAF's bounds), or null."
  }
}

variable "domain_names" {
  description = "Your own names for the site (CloudFront aliases), served with acm_certificate_arn; the first is the site's URL. Empty: the *.cloudfront.net name."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.domain_names : can(regex("^(\\*\\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", name))])
    error_message = "domain_names must be lowercase DNS names such as leaderboard.example.com."
  }
}

variable "acm_certificate_arn" {
  description = "ACM certificate in us-east-1 (where CloudFront reads certificates) covering domain_names; served with TLSv1.2_2021 (TLS 1.2 or later). Null: CloudFront's default certificate."
  type        = string
  default     = null

  validation {
    condition     = var.acm_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$", var.acm_certificate_arn))
    error_message = "acm_certificate_arn must be an ACM certificate ARN in us-east-1 (CloudFront reads its certificates there)."
  }

  validation {
    condition     = (var.acm_certificate_arn == null) == (length(var.domain_names) == 0)
    error_message = "domain_names and acm_certificate_arn go together: CloudFront serves aliases only with a certificate that covers them."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete the bucket with its objects (they are all generated from site_dir)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource this module creates."
  type        = map(string)
  default     = {}
}
