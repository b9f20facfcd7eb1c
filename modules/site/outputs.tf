output "bucket_name" {
  description = "Name of the bucket holding the site."
  value       = aws_s3_bucket.site.bucket
}

output "website_url" {
  description = "URL of the site: CloudFront over HTTPS (at the first of domain_names with a certificate), or S3 website hosting over HTTP. It has no path, so it is also the site's origin for CORS."
  value       = local.site_url
}

output "cloudfront_distribution_id" {
  description = "ID of the CloudFront distribution, or null without use_cloudfront."
  value       = one(aws_cloudfront_distribution.site[*].id)
}

output "content_security_policy" {
  description = "The Content-Security-Policy the distribution sends with the site and /stats."
  value       = local.content_security_policy
}

output "cross_origin_site_url" {
  description = "The site's origin when its page calls the API across origins (S3 website hosting), for the API's CORS; null behind CloudFront, where /stats is on the site's own origin."
  value       = var.use_cloudfront ? null : "http://${one(aws_s3_bucket_website_configuration.site[*].website_endpoint)}"
}
