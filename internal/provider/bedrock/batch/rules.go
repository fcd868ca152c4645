package batch

import (
	"fmt"
	"regexp"
	"strings"
)

// MinRecords is the fewest records Bedrock accepts in one model invocation
// job: the default of the service quota "Minimum number of records per batch
// inference job" (adjustable per account in Service Quotas, hence
// Job.MinRecords). A smaller job is refused by the service after the input
// was uploaded; evalgate refuses it before.
// https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-data.html
const MinRecords = 100

// roleARN is an IAM role ARN in any partition (aws, aws-cn, aws-us-gov):
// CreateModelInvocationJob's roleArn pattern, narrowed to roles.
var roleARN = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/.+$`)

// bucketName is S3's rule for general purpose bucket names: 3 to 63
// lowercase letters, digits, dots and hyphens, starting and ending with a
// letter or digit.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// CheckRoleARN reports what is wrong with the service role's ARN.
func CheckRoleARN(arn string) error {
	if arn == "" {
		return fmt.Errorf("no service role: give the ARN of the IAM role Bedrock assumes to read and write the bucket (arn:aws:iam::ACCOUNT:role/NAME)")
	}
	if !roleARN.MatchString(arn) {
		return fmt.Errorf("%q is not an IAM role ARN; write it as arn:aws:iam::ACCOUNT:role/NAME", arn)
	}
	return nil
}

// Location is an S3 bucket and a key prefix ("" or ending in "/").
type Location struct {
	Bucket, Prefix string
}

// ParseS3URI reads s3://bucket or s3://bucket/prefix; the prefix gets a
// trailing slash so that keys under it never run into a sibling's.
func ParseS3URI(uri string) (Location, error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return Location{}, fmt.Errorf("%q is not an S3 URI; write it as s3://BUCKET/PREFIX", uri)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if !bucketName.MatchString(bucket) || strings.Contains(bucket, "..") {
		return Location{}, fmt.Errorf("%q: %q is not an S3 bucket name (3-63 lowercase letters, digits, '.' and '-')", uri, bucket)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return Location{Bucket: bucket, Prefix: prefix}, nil
}

// URI is the location as s3://bucket/prefix.
func (l Location) URI() string { return "s3://" + l.Bucket + "/" + l.Prefix }

// jobNameRule is CreateModelInvocationJob's jobName pattern, at most 63
// characters.
var jobNameRule = regexp.MustCompile(`^[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}$`)

// JobName makes a valid job name from a target id and a time stamp: the
// characters the service refuses become '-', and the name is cut to 63.
func JobName(target, stamp string) string {
	var b strings.Builder
	b.WriteString("evalgate-")
	for _, r := range target {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	name := b.String()
	name = name[:min(len(name), 63-len(stamp)-1)] + "-" + stamp
	return name
}
