import Crypto
import Foundation
import Hex
import NIOHTTP1

/// A multipart upload left open (by a crash, or a failure whose abort also failed).
public struct S3Upload: Sendable, Equatable {
    public let key: String
    public let uploadID: String
    /// ISO 8601, as S3 wrote it.
    public let initiated: String
}

extension S3Client {
    /// CreateMultipartUpload, the parts in order (each with its SHA-256), then
    /// CompleteMultipartUpload (with `If-None-Match: *` when `ifAbsent`). Any failure aborts
    /// the upload: S3 keeps no parts and shows no object.
    func uploadInParts(_ handle: FileHandle, bytes size: Int, to key: String, ifAbsent: Bool) throws(S3Error) -> String {
        let created = try send(.POST, key: key, query: [("uploads", "")], headers: [("x-amz-checksum-algorithm", "SHA256")])
        guard let uploadID = XMLFields.value("UploadId", in: created.text) else {
            throw S3Error(.unexpectedResponse, "CreateMultipartUpload for \(key) answered without an UploadId")
        }
        do throws(S3Error) {
            var whole = SHA256()
            var parts: [(number: Int, etag: String, checksum: String)] = []
            var offset = 0
            while offset < size {
                let body = [UInt8](handle.readData(ofLength: min(configuration.partBytes, size - offset)))
                guard !body.isEmpty else { throw S3Error(.io, "the file for \(key) ended at \(offset) of \(size) bytes") }
                whole.update(data: body)
                let number = parts.count + 1
                guard faults.partMayUpload(number: number) else {
                    throw S3Error(.transport, "part \(number) of \(key): injected failure (S3Faults)")
                }
                let digest = SHA256.hash(data: body)
                let checksum = Data(digest).base64EncodedString()
                let answer = try send(.PUT, key: key, query: [("partNumber", "\(number)"), ("uploadId", uploadID)],
                                      headers: [("x-amz-checksum-sha256", checksum)], body: body, payloadSHA256: digest.hexEncoded)
                guard let etag = answer.headers.first(name: "etag") else {
                    throw S3Error(.unexpectedResponse, "part \(number) of \(key) was stored without an ETag")
                }
                parts.append((number, etag, checksum))
                offset += body.count
            }
            try complete(key, uploadID: uploadID, parts: parts, ifAbsent: ifAbsent)
            return whole.finalize().hexEncoded
        } catch {
            if !faults.abandonsUploads { try? abort(key, uploadID: uploadID) }
            throw error
        }
    }

    private func complete(_ key: String, uploadID: String, parts: [(number: Int, etag: String, checksum: String)],
                          ifAbsent: Bool) throws(S3Error) {
        let xml = "<CompleteMultipartUpload>" + parts.map {
            "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(XMLFields.escape($0.etag))</ETag>"
                + "<ChecksumSHA256>\($0.checksum)</ChecksumSHA256></Part>"
        }.joined() + "</CompleteMultipartUpload>"
        var headers: [(name: String, value: String)] = [("content-type", "application/xml")]
        if ifAbsent { headers.append(("if-none-match", "*")) }
        let answer = try send(.POST, key: key, query: [("uploadId", uploadID)], headers: headers, body: Array(xml.utf8))
        // S3 may answer 200 and still report a failure in the body.
        if let code = XMLFields.value("Code", in: answer.text), !XMLFields.blocks("Error", in: answer.text).isEmpty {
            throw S3Error(S3Error.code(status: 200, s3Code: code), "CompleteMultipartUpload of \(key): "
                + (XMLFields.value("Message", in: answer.text) ?? code), status: 200, s3Code: code)
        }
    }

    /// AbortMultipartUpload: S3 drops the parts stored so far.
    public func abort(_ key: String, uploadID: String) throws(S3Error) {
        _ = try send(.DELETE, key: key, query: [("uploadId", uploadID)], expect: [200, 204])
    }

    /// Multipart uploads not completed or aborted, under `prefix`.
    public func openUploads(prefix: String) throws(S3Error) -> [S3Upload] {
        let page = try send(.GET, key: nil, query: [("uploads", ""), ("prefix", prefix)]).text
        return XMLFields.blocks("Upload", in: page).compactMap { block in
            guard let key = XMLFields.value("Key", in: block), let id = XMLFields.value("UploadId", in: block) else { return nil }
            return S3Upload(key: key, uploadID: id, initiated: XMLFields.value("Initiated", in: block) ?? "")
        }
    }
}
