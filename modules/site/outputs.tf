output "bucket_name" {
  description = "Name of the bucket holding the site."
  value       = aws_s3_bucket.site.bucket
}

output "website_url" {
  description = "URL of the site: CloudFront over HTTPS, or S3 website hosting over HTTP. It has no path, so it is also the site's origin for CORS."
  value       = var.use_cloudfront ? "https://${aws_cloudfront_distribution.site[0].domain_name}" : "http://${aws_s3_bucket_website_configuration.site[0].website_endpoint}"
}

output "cloudfront_distribution_id" {
  description = "ID of the CloudFront distribution, or null without use_cloudfront."
  value       = one(aws_cloudfront_distribution.site[*].id)
}
