import Crypto
import Foundation
import Hex
@testable import ObjectStore
import XCTest

/// The signer against AWS's published Signature Version 4 examples: the `get-vanilla` and
/// `post-vanilla` cases of the SigV4 test suite, and the four worked S3 examples of the S3
/// API reference (GET with a range, PUT of a key with `$`, `?lifecycle`, ListObjects).
final class SigV4SignerTests: XCTestCase {
    private let suite = SigV4Signer(credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE",
                                                               secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                                    region: "us-east-1", service: "service")
    private let s3 = SigV4Signer(credentials: S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                                            secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                                 region: "us-east-1")
    private let suiteDate = "20150830T123600Z", s3Date = "20130524T000000Z"
    private let s3Host = "examplebucket.s3.amazonaws.com"

    func testGetVanillaCanonicalRequestStringToSignAndSignature() {
        let request = S3Request(method: "GET", path: "/", headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", suiteDate)],
                                payloadSHA256: SigV4Signer.emptyPayloadSHA256)
        let canonical = suite.canonicalRequest(request)
        XCTAssertEqual(canonical, "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            + SigV4Signer.emptyPayloadSHA256)
        let toSign = suite.stringToSign(canonicalRequest: canonical, amzDate: suiteDate)
        XCTAssertEqual(toSign, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            + "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63")
        XCTAssertEqual(suite.signature(stringToSign: toSign, amzDate: suiteDate),
                       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        XCTAssertEqual(suite.authorization(request, amzDate: suiteDate),
                       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                       + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    func testPostVanillaSignature() {
        let request = S3Request(method: "POST", path: "/", headers: [("host", "example.amazonaws.com"), ("x-amz-date", suiteDate)],
                                payloadSHA256: SigV4Signer.emptyPayloadSHA256)
        XCTAssertTrue(suite.authorization(request, amzDate: suiteDate)
            .hasSuffix("Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"))
    }

    func testS3GetObjectWithRange() {
        let request = S3Request(method: "GET", path: "/test.txt",
                                headers: [("host", s3Host), ("range", "bytes=0-9"),
                                          ("x-amz-content-sha256", SigV4Signer.emptyPayloadSHA256), ("x-amz-date", s3Date)],
                                payloadSHA256: SigV4Signer.emptyPayloadSHA256)
        assertSigned(request, canonicalDigest: "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
                     signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    func testS3PutObjectEncodesTheDollarOfTheKey() {
        let body = SHA256.hash(data: Data("Welcome to Amazon S3.".utf8)).hexEncoded
        XCTAssertEqual(body, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let request = S3Request(method: "PUT", path: "/test$file.text",
                                headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("Host", s3Host),
                                          ("x-amz-content-sha256", body), ("x-amz-date", s3Date),
                                          ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
                                payloadSHA256: body)
        XCTAssertEqual(request.encodedPath, "/test%24file.text")
        assertSigned(request, canonicalDigest: "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
                     signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    func testS3GetBucketLifecycleSignsAValuelessParameterAsNameEquals() {
        let request = S3Request(method: "GET", path: "/", query: [("lifecycle", "")],
                                headers: [("host", s3Host), ("x-amz-content-sha256", SigV4Signer.emptyPayloadSHA256),
                                          ("x-amz-date", s3Date)], payloadSHA256: SigV4Signer.emptyPayloadSHA256)
        XCTAssertEqual(request.encodedQuery, "lifecycle=")
        assertSigned(request, canonicalDigest: "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
                     signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    func testS3ListObjectsSortsTheQuery() {
        let request = S3Request(method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")],
                                headers: [("host", s3Host), ("x-amz-content-sha256", SigV4Signer.emptyPayloadSHA256),
                                          ("x-amz-date", s3Date)], payloadSHA256: SigV4Signer.emptyPayloadSHA256)
        XCTAssertEqual(request.encodedQuery, "max-keys=2&prefix=J")
        XCTAssertTrue(s3.authorization(request, amzDate: s3Date)
            .hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))
    }

    /// The characters moto's auth check trips on are encoded exactly once, in path and query.
    func testReservedCharactersAreEncodedOnceInPathAndQuery() {
        let request = S3Request(method: "GET", path: "/bucket/fb/a b+c=d.json", query: [("prefix", "fb/x y+z=")],
                                headers: [("host", "h")], payloadSHA256: SigV4Signer.emptyPayloadSHA256)
        XCTAssertEqual(request.encodedPath, "/bucket/fb/a%20b%2Bc%3Dd.json")
        XCTAssertEqual(request.encodedQuery, "prefix=fb%2Fx%20y%2Bz%3D")
        XCTAssertEqual(SigV4Signer.uriEncode("ü~"), "%C3%BC~")
    }

    func testHeaderValuesAreTrimmedAndFolded() {
        XCTAssertEqual(SigV4Signer.trimmed("  a   b  c "), "a b c")
    }

    func testCredentialsComeFromTheStandardVariablesAndHideTheSecret() throws {
        let credentials = try S3Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s3cr3t",
                                                             "AWS_SESSION_TOKEN": "tok"])
        XCTAssertEqual(credentials.sessionToken, "tok")
        XCTAssertFalse(credentials.description.contains("s3cr3t"))
        XCTAssertThrowsError(try S3Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKIA1"])) { error in
            XCTAssertEqual((error as? S3Error)?.code, .invalidInput)
        }
    }

    private func assertSigned(_ request: S3Request, canonicalDigest: String, signature: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        let canonical = s3.canonicalRequest(request)
        XCTAssertEqual(SHA256.hash(data: Data(canonical.utf8)).hexEncoded, canonicalDigest, canonical, file: file, line: line)
        XCTAssertTrue(s3.authorization(request, amzDate: s3Date).hasSuffix("Signature=" + signature), file: file, line: line)
    }
}

/// The retry schedule and the XML reading, without a server.
final class RetryAndXMLTests: XCTestCase {
    func testBackoffDoublesUpToTheCapAndJitterStaysBelowIt() {
        let policy = RetryPolicy(attemptsMax: 6, baseSeconds: 0.1, capSeconds: 1.0)
        XCTAssertEqual(policy.ceilingSeconds(afterAttempt: 0), 0.1, accuracy: 1e-9)
        XCTAssertEqual(policy.ceilingSeconds(afterAttempt: 2), 0.4, accuracy: 1e-9)
        XCTAssertEqual(policy.ceilingSeconds(afterAttempt: 10), 1.0, accuracy: 1e-9)
        XCTAssertEqual(policy.delaySeconds(afterAttempt: 3, unit: 0.5), 0.4, accuracy: 1e-9)
        for attempt in 0..<10 { XCTAssertLessThan(policy.delaySeconds(afterAttempt: attempt), policy.ceilingSeconds(afterAttempt: attempt) + 1e-12) }
    }

    func testOnlyThrottlingTimeoutsAndServerErrorsAreRetried() {
        XCTAssertTrue(RetryPolicy.isRetryable(status: 503, s3Code: "SlowDown"))
        XCTAssertTrue(RetryPolicy.isRetryable(status: 400, s3Code: "RequestTimeout"))
        XCTAssertTrue(RetryPolicy.isRetryable(status: 500, s3Code: nil))
        XCTAssertFalse(RetryPolicy.isRetryable(status: 403, s3Code: "SignatureDoesNotMatch"))
        XCTAssertFalse(RetryPolicy.isRetryable(status: 412, s3Code: "PreconditionFailed"))
        XCTAssertFalse(RetryPolicy.isRetryable(status: 404, s3Code: "NoSuchKey"))
        XCTAssertEqual(S3Error.code(status: 403, s3Code: "SignatureDoesNotMatch"), .signatureDoesNotMatch)
        XCTAssertEqual(S3Error.code(status: 404, s3Code: nil), .noSuchKey)
        XCTAssertEqual(S3Error.code(status: 503, s3Code: "SlowDown"), .throttled)
    }

    func testListingFieldsAreReadInOrderWithEntitiesDecoded() {
        let xml = """
        <ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>fb/a&amp;b</Key><Size>3</Size></Contents>\
        <Contents><Key>fb/c</Key><Size>10</Size></Contents><KeyCount>2</KeyCount>\
        <NextContinuationToken>t&#x2F;1</NextContinuationToken></ListBucketResult>
        """[...]
        let blocks = XMLFields.blocks("Contents", in: xml)
        XCTAssertEqual(blocks.compactMap { XMLFields.value("Key", in: $0) }, ["fb/a&b", "fb/c"])
        XCTAssertEqual(XMLFields.value("NextContinuationToken", in: xml), "t/1")
        XCTAssertEqual(XMLFields.value("Key", in: xml), "fb/a&b", "<KeyCount> is not <Key>")
        XCTAssertNil(XMLFields.value("Missing", in: xml))
    }
}
