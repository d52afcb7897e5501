# a message a slow (sanitized) run delays is still a pass: wait up to 5 s for it
ExUnit.start(exclude: [:slow], assert_receive_timeout: 5_000)
