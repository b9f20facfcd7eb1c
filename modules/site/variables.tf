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
