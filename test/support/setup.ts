// Runs before every test file. The SDK only needs these to sign requests to local endpoints.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
process.env['AWS_ACCESS_KEY_ID'] ??= 'AKIAFAKEFAKEFAKE';
process.env['AWS_SECRET_ACCESS_KEY'] ??= 'fakesecretfakesecret';
process.env['AWS_REGION'] ??= 'us-east-1';
